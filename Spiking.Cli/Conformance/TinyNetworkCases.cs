using System;
using System.Text.Json;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Cli.Conformance;

/// <summary>
/// The <c>tiny_network</c> family: <c>x_seq[T,B,In] → Linear → LIF → Linear → LIF → mean over time →
/// mse_loss(·, target)</c> in multi-step mode, one forward and one backward through the engine, compared on every
/// intermediate (spikes exactly), the loss and the gradients of the weights, biases and input.
/// </summary>
/// <remarks>
/// A <c>binary_input</c> case feeds x_seq as a bit-packed <see cref="SpikeTensor"/>, so the first layer runs the
/// spike kernels forward and backward, as it does in training. A spike leaf carries no gradient of its own, so
/// <c>grad_x_seq</c> is then read as <c>∂L/∂fc1_out · W1</c> (what SpikingJelly computes for a 0/1 float input):
/// the gradient at the first layer's output is taken from a zero tensor added to it, which changes no value.
/// Fields this family does not use (descriptions, firing-rate statistics) are ignored.
/// </remarks>
internal static class TinyNetworkCases
{
    public static void Check(JsonElement c, string context, CaseCheck check)
    {
        if (c.TryGetProperty("architecture", out _))
        {
            // The description names the layers; this family builds Linear → LIFNode → Linear → LIFNode and nothing else.
            string architecture = JsonArrays.String(c, "architecture", context);
            int linear = architecture.IndexOf("Linear(", StringComparison.Ordinal), neuron = architecture.IndexOf("LIFNode", StringComparison.Ordinal);
            if (linear < 0 || neuron < linear || architecture.IndexOf("Linear(", neuron, StringComparison.Ordinal) < 0)
            {
                throw new FormatException($"{context}: architecture \"{architecture}\" is not the Linear → LIFNode → Linear → LIFNode network this family builds");
            }
        }
        var lifSettings = NeuronCases.Settings("LIFNode", JsonArrays.Property(c, "lif_params", context), context);
        var lif = LifNeuron.FromSpikingJelly(lifSettings);
        lifSettings.RejectUnknown();
        bool binary = JsonArrays.Boolean(c, "binary_input", context);
        var (xValues, xShape) = JsonArrays.Read(JsonArrays.Property(c, "x_seq", context), "x_seq");
        if (xShape.Length != 3) throw new FormatException($"field 'x_seq' of {context} must be [T, B, in]; it has shape [{string.Join(", ", xShape)}]");
        int t = xShape[0], b = xShape[1], inputs = xShape[2];
        if (binary && Array.FindIndex(xValues, v => v is not (0.0 or 1.0)) is int nonBinary and >= 0)
        {
            throw new FormatException($"{context} says binary_input but x_seq element {nonBinary} is {xValues[nonBinary]}, not 0 or 1");
        }
        var (_, w1Shape) = JsonArrays.Read(JsonArrays.Property(c, "W1", context), "W1");
        if (w1Shape.Length != 2 || w1Shape[1] != inputs)
        {
            throw new FormatException($"field 'W1' of {context} must be [hidden, {inputs}]; it has shape [{string.Join(", ", w1Shape)}]");
        }
        int hidden = w1Shape[0];
        var (_, w2Shape) = JsonArrays.Read(JsonArrays.Property(c, "W2", context), "W2");
        if (w2Shape.Length != 2 || w2Shape[1] != hidden)
        {
            throw new FormatException($"field 'W2' of {context} must be [out, {hidden}]; it has shape [{string.Join(", ", w2Shape)}]");
        }
        int outputs = w2Shape[0];
        int[] hiddenSeq = [t, b, hidden], outSeq = [t, b, outputs];

        using var x = Tensor.FromSpan(JsonArrays.ToFloats(xValues), new Shape(xShape));
        using var w1 = Parameter(c, "W1", w1Shape, context);
        using var b1 = Parameter(c, "b1", [hidden], context);
        using var w2 = Parameter(c, "W2", w2Shape, context);
        using var b2 = Parameter(c, "b2", [outputs], context);
        using var target = Tensor.FromSpan(JsonArrays.ToFloats(Expected(c, "target", [b, outputs], context)), new Shape(b, outputs));

        using var input = binary ? Variable.Constant(SpikeTensor.FromBinary(x), "x_seq") : Variable.Input(x.Clone(), "x_seq");
        using var tap = binary ? Variable.Parameter(Tensor.Zeros(hiddenSeq), "fc1_out_seq") : null;
        using var fc1Linear = Functional.Linear(input, w1, b1);
        using var fc1Tapped = tap is null ? null : Functional.Add(fc1Linear, tap);
        var fc1 = fc1Tapped ?? fc1Linear;
        using var hiddenSpikes = Functional.Neuron(fc1, lif, [], out var hiddenTraces);
        using var fc2 = Functional.Linear(hiddenSpikes, w2, b2);
        using var outSpikes = Functional.Neuron(fc2, lif, [], out var outTraces);
        using var rate = Functional.MeanOverTime(outSpikes);
        using var loss = Functional.MseLoss(rate, target);
        using (hiddenTraces)
        using (outTraces)
        using (var hiddenDense = hiddenSpikes.ToDense())
        using (var outDense = outSpikes.ToDense())
        {
            check.Values("fc1_out_seq", Expected(c, "fc1_out_seq", hiddenSeq, context), fc1.Dense.AsReadOnlySpan());
            check.Spikes("hidden_spike_seq", Expected(c, "hidden_spike_seq", hiddenSeq, context), hiddenDense.AsReadOnlySpan());
            check.Values("hidden_v_seq", Expected(c, "hidden_v_seq", hiddenSeq, context), hiddenTraces["v"].AsReadOnlySpan());
            check.Values("fc2_out_seq", Expected(c, "fc2_out_seq", outSeq, context), fc2.Dense.AsReadOnlySpan());
            check.Spikes("out_spike_seq", Expected(c, "out_spike_seq", outSeq, context), outDense.AsReadOnlySpan());
            check.Values("out_v_seq", Expected(c, "out_v_seq", outSeq, context), outTraces["v"].AsReadOnlySpan());
            check.Values("out_fr", Expected(c, "out_fr", [b, outputs], context), rate.Dense.AsReadOnlySpan());
            check.Value("loss", JsonArrays.Number(c, "loss", context), loss.Dense.ToScalar());
        }
        loss.Backward();
        check.Values("grad_W1", Expected(c, "grad_W1", w1Shape, context), w1.Grad!.AsReadOnlySpan());
        check.Values("grad_b1", Expected(c, "grad_b1", [hidden], context), b1.Grad!.AsReadOnlySpan());
        check.Values("grad_W2", Expected(c, "grad_W2", w2Shape, context), w2.Grad!.AsReadOnlySpan());
        check.Values("grad_b2", Expected(c, "grad_b2", [outputs], context), b2.Grad!.AsReadOnlySpan());
        var gradX = Expected(c, "grad_x_seq", xShape, context);
        if (tap is null)
        {
            check.Values("grad_x_seq", gradX, input.Grad!.AsReadOnlySpan());
        }
        else
        {
            var dx = new float[t * b * inputs];
            Gemm.Multiply(tap.Grad!.AsReadOnlySpan(), false, w1.Dense.AsReadOnlySpan(), false, dx, t * b, inputs, hidden);
            check.Values("grad_x_seq", gradX, dx);
        }
    }

    private static Variable Parameter(JsonElement c, string field, int[] shape, string context) =>
        Variable.Parameter(Tensor.FromSpan(JsonArrays.ToFloats(Expected(c, field, shape, context)), new Shape(shape)), field);

    private static double[] Expected(JsonElement c, string field, int[] shape, string context) =>
        JsonArrays.Read(JsonArrays.Property(c, field, context), field, shape);
}
