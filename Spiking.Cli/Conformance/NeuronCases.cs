using System;
using System.Collections.Generic;
using System.Text.Json;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Layers;
using Spiking.Tensors;

namespace Spiking.Cli.Conformance;

/// <summary>
/// The <c>neurons</c> and <c>neurons_more</c> families: a multi-step neuron layer of any class the
/// <see cref="NeuronCatalog"/> knows, built from the case's <c>params</c>, its learnable parameters set from the
/// case's fields of the same names (<c>w</c>, <c>k</c>, <c>weight</c>, <c>bias</c>), run over <c>x_seq</c>. Compared:
/// the output (<c>spike_seq</c>, or <c>y_seq</c> for an analog output; spikes and spike counts exactly), every trace
/// the layer records under the case's name for it (<c>v_seq</c>, <c>h_seq</c>, <c>w_seq</c>, <c>f_seq</c>,
/// <c>spike_seq</c> of the internal spikes, <c>gate</c>, …), <c>loss = sum(output·G)</c>, <c>firing_rate</c>,
/// <c>grad_x_seq</c> and the gradient of every parameter (<c>grad_w</c>, <c>grad_k</c>, …), and for the parametric LIF
/// <c>grad_tau = grad_w · (−1/(tau − 1))</c>. A <c>*_seq</c> or <c>grad_*</c> field the layer cannot produce is a
/// failure that names it, never skipped; other fields are inputs or descriptions.
/// </summary>
internal static class NeuronCases
{
    public static void Check(JsonElement c, string context, CaseCheck check)
    {
        string node = JsonArrays.String(c, "node", context);
        var settings = Settings(node, JsonArrays.Property(c, "params", context), context);
        using var layer = NeuronCatalog.Create(settings);
        var traced = layer as ITracedNeuronLayer ?? throw new FormatException($"the {node} layer of {context} records no traces");
        var compared = new HashSet<string>(StringComparer.Ordinal) { "x_seq", "G" };
        foreach (var (name, parameter) in layer.NamedParameters())
        {
            if (!c.TryGetProperty(name, out var value)) continue;
            var target = parameter.Variable.Dense;
            var values = JsonArrays.Read(value, name, target.Shape.Dimensions.ToArray());
            JsonArrays.ToFloats(values).CopyTo(target.AsSpan());
        }

        var shape = JsonArrays.Shape(c, "shape", context);
        var x = JsonArrays.ToFloats(JsonArrays.Read(JsonArrays.Property(c, "x_seq", context), "x_seq", shape));
        var g = JsonArrays.ToFloats(JsonArrays.Read(JsonArrays.Property(c, "G", context), "G", shape));
        // A single neuron's sequence [T] runs as [T, 1] (the layers need an axis after time); the values are the same in
        // row-major order, so every field is still read with the case's own shape.
        var layerShape = new Shape(shape.Length == 1 ? [shape[0], 1] : shape);
        using var input = Variable.Input(Tensor.FromSpan(x, layerShape), "x_seq");
        using (var output = traced.Forward(input, out var traces))
        using (traces)
        using (var gradient = Tensor.FromSpan(g, layerShape))
        using (var dense = output.ToDense())
        {
            var y = dense.AsReadOnlySpan();
            string outputField = traced.OutputName + "_seq";
            Compare(c, outputField, shape, y, exact: traced.OutputName == "spike", context, check, compared);
            foreach (var name in traces.Names)
            {
                string field = c.TryGetProperty(name + "_seq", out _) ? name + "_seq" : name;
                if (compared.Contains(field) || !c.TryGetProperty(field, out _)) continue;
                var trace = traces[name];
                var traceShape = trace.Shape == layerShape ? shape : trace.Shape.Dimensions.ToArray();
                Compare(c, field, traceShape, trace.AsReadOnlySpan(), exact: name == "spike", context, check, compared);
            }
            if (c.TryGetProperty("loss", out _))
            {
                double loss = 0;
                for (int i = 0; i < y.Length; i++) loss += (double)y[i] * g[i];
                check.Value("loss", JsonArrays.Number(c, "loss", context), loss);
            }
            if (c.TryGetProperty("firing_rate", out _))
            {
                var spikes = traced.OutputName == "spike" ? y : traces.Contains("spike") ? traces["spike"].AsReadOnlySpan() : default;
                if (!spikes.IsEmpty)
                {
                    int nonzero = 0;
                    foreach (float s in spikes) nonzero += s != 0f ? 1 : 0;
                    check.Value("firing_rate", JsonArrays.Number(c, "firing_rate", context), (double)nonzero / spikes.Length);
                }
            }
            output.Backward(gradient);
        }
        check.Values("grad_x_seq", Expected(c, "grad_x_seq", shape, context), input.Grad!.AsReadOnlySpan());
        compared.Add("grad_x_seq");
        foreach (var (name, parameter) in layer.NamedParameters())
        {
            string field = "grad_" + name;
            if (!c.TryGetProperty(field, out _)) continue;
            var grad = parameter.Variable.Grad ?? throw new InvalidOperationException($"the {node} layer's parameter '{name}' got no gradient");
            check.Values(field, Expected(c, field, grad.Shape.Dimensions.ToArray(), context), grad.AsReadOnlySpan());
            compared.Add(field);
            if (name == "w" && c.TryGetProperty("grad_tau", out _))
            {
                // SpikingJelly's parametric LIF: 1/tau = sigmoid(w), so dtau/dw = −(tau − 1) and dL/dtau = dL/dw · (−1/(tau − 1)).
                double tau = 1.0 + Math.Exp(-parameter.Variable.Dense.ToScalar());
                check.Value("grad_tau", JsonArrays.Number(c, "grad_tau", context), grad.ToScalar() * (-1.0 / (tau - 1.0)));
                compared.Add("grad_tau");
            }
        }
        foreach (var field in c.EnumerateObject())
        {
            if ((field.Name.EndsWith("_seq", StringComparison.Ordinal) || field.Name.StartsWith("grad_", StringComparison.Ordinal)) && !compared.Contains(field.Name))
            {
                throw new FormatException($"{context} has field '{field.Name}', which the {node} layer does not produce");
            }
        }
    }

    private static void Compare(JsonElement c, string field, int[] shape, ReadOnlySpan<float> actual, bool exact, string context, CaseCheck check, HashSet<string> compared)
    {
        if (!c.TryGetProperty(field, out _)) return;
        var expected = Expected(c, field, shape, context);
        if (exact) check.Spikes(field, expected, actual);
        else check.Values(field, expected, actual);
        compared.Add(field);
    }

    private static double[] Expected(JsonElement c, string field, int[] shape, string context) =>
        JsonArrays.Read(JsonArrays.Property(c, field, context), field, shape);

    /// <summary>The keyword arguments of <paramref name="node"/> from a case's <c>params</c> object.</summary>
    public static NeuronSettings Settings(string node, JsonElement p, string context)
    {
        if (p.ValueKind != JsonValueKind.Object) throw new FormatException($"field 'params' of {context} must be an object");
        return new NeuronSettings(node, Map(p, context));
    }

    private static Dictionary<string, object?> Map(JsonElement obj, string context)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var item in obj.EnumerateObject()) map[item.Name] = Value(item.Value, item.Name, context);
        return map;
    }

    private static object? Value(JsonElement e, string name, string context) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Object => Map(e, context),
        JsonValueKind.Array => JsonArrays.Read(e, name).Values,
        _ => throw new FormatException($"parameter '{name}' of {context} has an unsupported value ({e.ValueKind})"),
    };
}
