using System;
using System.Text.Json;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Tensors;

namespace Spiking.Cli.Conformance;

/// <summary>
/// The <c>batchnorm</c> family: SpikingJelly's multi-step <c>layer.BatchNorm1d/2d</c> in training mode over
/// <c>[T, B, C, …]</c>, run through this engine's <see cref="BatchNorm1d"/>/<see cref="BatchNorm2d"/> modules with
/// the case's γ, β, eps and momentum; compared on <c>y_seq</c>, <c>loss = sum(y·G)</c>, <c>grad_x_seq</c>,
/// <c>grad_gamma</c>, <c>grad_beta</c> and the running statistics after the step.
/// </summary>
internal static class BatchNormCases
{
    public static void Check(JsonElement c, string context, CaseCheck check)
    {
        var shape = JsonArrays.Shape(c, "shape", context);
        if (shape.Length is < 3 or > 5) throw new FormatException($"{context}: shape [{string.Join(", ", shape)}] is not [T, B, C], [T, B, C, L] or [T, B, C, H, W]");
        int channels = shape[2];
        if (c.TryGetProperty("C", out _) && (int)JsonArrays.Number(c, "C", context) != channels)
        {
            throw new FormatException($"{context}: C = {JsonArrays.Number(c, "C", context)} but the shape's channel axis is {channels}");
        }
        if (c.TryGetProperty("module", out _))
        {
            string module = JsonArrays.String(c, "module", context);
            string expected = shape.Length == 5 ? "BatchNorm2d" : "BatchNorm1d";
            if (!module.Contains(expected, StringComparison.Ordinal))
            {
                throw new FormatException($"{context}: module \"{module}\" is not the {expected} that a shape of rank {shape.Length} takes");
            }
        }
        double eps = c.TryGetProperty("eps", out _) ? JsonArrays.Number(c, "eps", context) : 1e-5;
        double momentum = c.TryGetProperty("momentum", out _) ? JsonArrays.Number(c, "momentum", context) : 0.1;
        var x = JsonArrays.ToFloats(JsonArrays.Read(JsonArrays.Property(c, "x_seq", context), "x_seq", shape));
        var g = JsonArrays.ToFloats(JsonArrays.Read(JsonArrays.Property(c, "G", context), "G", shape));
        var gamma = JsonArrays.ToFloats(JsonArrays.Read(JsonArrays.Property(c, "gamma", context), "gamma", [channels]));
        var beta = JsonArrays.ToFloats(JsonArrays.Read(JsonArrays.Property(c, "beta", context), "beta", [channels]));

        using BatchNorm layer = shape.Length == 5 ? new BatchNorm2d(channels, eps, momentum) : new BatchNorm1d(channels, eps, momentum);
        gamma.CopyTo(layer.Weight.Value.AsSpan());
        beta.CopyTo(layer.Bias.Value.AsSpan());
        if (c.TryGetProperty("running_mean_before", out _))
        {
            JsonArrays.ToFloats(JsonArrays.Read(JsonArrays.Property(c, "running_mean_before", context), "running_mean_before", [channels])).CopyTo(layer.RunningMean.AsSpan());
            JsonArrays.ToFloats(JsonArrays.Read(JsonArrays.Property(c, "running_var_before", context), "running_var_before", [channels])).CopyTo(layer.RunningVar.AsSpan());
        }
        using var scope = DisposeScope.Begin();
        using var input = Variable.Input(Tensor.FromSpan(x, new Shape(shape)), "x_seq");
        var y = layer.Forward(input);
        var values = y.Dense.AsReadOnlySpan();
        check.Values("y_seq", Expected(c, "y_seq", shape, context), values);
        if (c.TryGetProperty("loss", out _))
        {
            double loss = 0;
            for (int i = 0; i < values.Length; i++) loss += (double)values[i] * g[i];
            check.Value("loss", JsonArrays.Number(c, "loss", context), loss);
        }
        using (var gradient = Tensor.FromSpan(g, new Shape(shape))) y.Backward(gradient);
        check.Values("grad_x_seq", Expected(c, "grad_x_seq", shape, context), input.Grad!.AsReadOnlySpan());
        check.Values("grad_gamma", Expected(c, "grad_gamma", [channels], context), layer.Weight.Grad!.AsReadOnlySpan());
        check.Values("grad_beta", Expected(c, "grad_beta", [channels], context), layer.Bias.Grad!.AsReadOnlySpan());
        // The format always records the running statistics after the forward; a case without them checks less than it claims.
        check.Values("running_mean_after", Expected(c, "running_mean_after", [channels], context), layer.RunningMean.AsReadOnlySpan());
        check.Values("running_var_after", Expected(c, "running_var_after", [channels], context), layer.RunningVar.AsReadOnlySpan());
    }

    private static double[] Expected(JsonElement c, string field, int[] shape, string context) =>
        JsonArrays.Read(JsonArrays.Property(c, field, context), field, shape);
}
