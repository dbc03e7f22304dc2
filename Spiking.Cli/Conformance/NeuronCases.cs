using System;
using System.Text.Json;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Tensors;

namespace Spiking.Cli.Conformance;

/// <summary>
/// The <c>neurons</c> family: a multi-step IF, LIF or parametric LIF layer over <c>x_seq</c>, compared on the spikes
/// (exactly), <c>v_seq</c>, <c>h_seq</c>, <c>loss = sum(spike·G)</c>, <c>grad_x_seq</c> and, for the parametric LIF,
/// <c>grad_w</c> and <c>grad_tau = grad_w · (−1/(tau − 1))</c>.
/// </summary>
internal static class NeuronCases
{
    /// <summary>The node classes this family knows (SpikingJelly's names).</summary>
    public static readonly string[] KnownNodes = ["IFNode", "LIFNode", "ParametricLIFNode"];

    /// <summary>Parameters accepted and ignored: they select how SpikingJelly ran, not what it computed.</summary>
    private static readonly string[] s_ignored = ["step_mode", "backend", "store_v_seq"];

    public static void Check(JsonElement c, string context, CaseCheck check)
    {
        string node = JsonArrays.String(c, "node", context);
        var p = JsonArrays.Property(c, "params", context);
        var options = Options(node, p, context);
        var shape = JsonArrays.Shape(c, "shape", context);
        var x = JsonArrays.ToFloats(JsonArrays.Read(JsonArrays.Property(c, "x_seq", context), "x_seq", shape));
        var g = JsonArrays.ToFloats(JsonArrays.Read(JsonArrays.Property(c, "G", context), "G", shape));

        bool parametric = options.Model == NeuronModel.ParametricLeakyIntegrateAndFire;
        double wValue = parametric && c.TryGetProperty("w", out _) ? JsonArrays.Number(c, "w", context) : options.InitialW;
        using var input = Variable.Input(Tensor.FromSpan(x, new Shape(shape)), "x_seq");
        using var w = parametric ? Variable.Parameter(Tensor.Scalar((float)wValue), "w") : null;
        using var spikes = Functional.Neuron(input, options, w, out var vSeq, out var hSeq);
        using (vSeq)
        using (hSeq)
        using (var gradient = Tensor.FromSpan(g, new Shape(shape)))
        using (var dense = spikes.ToDense())
        {
            var s = dense.AsReadOnlySpan();
            check.Spikes("spike_seq", Expected(c, "spike_seq", shape, context), s);
            check.Values("v_seq", Expected(c, "v_seq", shape, context), vSeq.AsReadOnlySpan());
            check.Values("h_seq", Expected(c, "h_seq", shape, context), hSeq.AsReadOnlySpan());
            if (c.TryGetProperty("loss", out _))
            {
                double loss = 0;
                for (int i = 0; i < s.Length; i++) loss += (double)s[i] * g[i];
                check.Value("loss", JsonArrays.Number(c, "loss", context), loss);
            }
            spikes.Backward(gradient);
        }
        check.Values("grad_x_seq", Expected(c, "grad_x_seq", shape, context), input.Grad!.AsReadOnlySpan());
        if (parametric)
        {
            float gradW = w!.Grad!.ToScalar();
            check.Value("grad_w", JsonArrays.Number(c, "grad_w", context), gradW);
            if (c.TryGetProperty("grad_tau", out _))
            {
                double tau = 1.0 + Math.Exp(-wValue);
                check.Value("grad_tau", JsonArrays.Number(c, "grad_tau", context), gradW * (-1.0 / (tau - 1.0)));
            }
        }
    }

    private static double[] Expected(JsonElement c, string field, int[] shape, string context) =>
        JsonArrays.Read(JsonArrays.Property(c, field, context), field, shape);

    /// <summary>The neuron settings of a case; an unknown node or parameter is an error that names it.</summary>
    public static NeuronOptions Options(string node, JsonElement p, string context)
    {
        string[] allowed = node switch
        {
            "IFNode" => ["v_threshold", "v_reset", "detach_reset", "surrogate"],
            "LIFNode" => ["v_threshold", "v_reset", "detach_reset", "surrogate", "tau", "decay_input"],
            "ParametricLIFNode" => ["v_threshold", "v_reset", "detach_reset", "surrogate", "init_tau", "decay_input"],
            _ => throw new FormatException($"unknown node '{node}' in {context} (known: {string.Join(", ", KnownNodes)})"),
        };
        if (p.ValueKind != JsonValueKind.Object) throw new FormatException($"field 'params' of {context} must be an object");
        foreach (var item in p.EnumerateObject())
        {
            if (Array.IndexOf(allowed, item.Name) < 0 && Array.IndexOf(s_ignored, item.Name) < 0)
            {
                throw new FormatException($"unknown parameter '{item.Name}' for {node} in {context} (known: {string.Join(", ", allowed)})");
            }
        }
        string where = $"the params of {context}";
        var vResetElement = JsonArrays.Property(p, "v_reset", where);
        float? vReset = vResetElement.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.Number => (float)vResetElement.GetDouble(),
            _ => throw new FormatException($"v_reset of {context} must be a number or null"),
        };
        float vThreshold = p.TryGetProperty("v_threshold", out _) ? (float)JsonArrays.Number(p, "v_threshold", where) : 1f;
        bool detach = p.TryGetProperty("detach_reset", out _) && JsonArrays.Boolean(p, "detach_reset", where);
        var sg = JsonArrays.Property(p, "surrogate", where);
        var surrogate = SurrogateCases.Create(JsonArrays.String(sg, "name", where + " surrogate"), JsonArrays.Property(sg, "params", where + " surrogate"), context);
        bool decayInput = !p.TryGetProperty("decay_input", out _) || JsonArrays.Boolean(p, "decay_input", where);
        return node switch
        {
            "IFNode" => NeuronOptions.IF(vThreshold, vReset, detach, surrogate),
            "LIFNode" => NeuronOptions.Lif(p.TryGetProperty("tau", out _) ? JsonArrays.Number(p, "tau", where) : 2.0, decayInput, vThreshold, vReset, detach, surrogate),
            _ => NeuronOptions.ParametricLif(p.TryGetProperty("init_tau", out _) ? JsonArrays.Number(p, "init_tau", where) : 2.0, decayInput, vThreshold, vReset, detach, surrogate),
        };
    }
}
