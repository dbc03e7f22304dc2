using System;
using System.Collections.Generic;
using System.Text.Json;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Cli.Conformance;

/// <summary>
/// The <c>surrogate</c> family: for each x, the spike (Heaviside, x = 0 spikes) and <c>d spike/dx</c> through the
/// engine's spike op with its surrogate (the gradient of sum(spike)); the scalar <c>Surrogate.Derivative</c> is
/// checked against the same reference.
/// </summary>
internal static class SurrogateCases
{
    public static void Check(JsonElement c, string context, CaseCheck check)
    {
        var surrogate = Create(JsonArrays.String(c, "surrogate", context), JsonArrays.Property(c, "params", context), context);
        var (xs, shape) = JsonArrays.Read(JsonArrays.Property(c, "x", context), "x");
        if (shape.Length != 1) throw new FormatException($"field 'x' of {context} must be a flat list");
        var spikeRef = JsonArrays.Read(JsonArrays.Property(c, "spike", context), "spike", shape);
        var gradRef = JsonArrays.Read(JsonArrays.Property(c, "grad", context), "grad", shape);
        var x = JsonArrays.ToFloats(xs);

        using var input = Variable.Input(Tensor.FromArray(x, x.Length));
        using var spikes = Functional.Spike(input, surrogate);
        using var ones = Tensor.Ones(spikes.Shape);
        spikes.Backward(ones);
        using var dense = spikes.ToDense();
        check.Spikes("spike", spikeRef, dense.AsReadOnlySpan());
        check.Values("grad", gradRef, input.Grad!.AsReadOnlySpan());

        var scalar = new float[x.Length];
        for (int i = 0; i < x.Length; i++) scalar[i] = surrogate.Derivative(x[i]);
        check.Values("grad (scalar Derivative)", gradRef, scalar);
    }

    /// <summary>A surrogate from its SpikingJelly class name and constructor arguments; <c>spiking: true</c> is the only non-numeric one accepted.</summary>
    public static Surrogate Create(string name, JsonElement parameters, string context)
    {
        if (parameters.ValueKind != JsonValueKind.Object) throw new FormatException($"the surrogate parameters of {context} must be an object");
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in parameters.EnumerateObject())
        {
            switch (p.Value.ValueKind)
            {
                case JsonValueKind.Number: values[p.Name] = p.Value.GetDouble(); break;
                case JsonValueKind.True when p.Name == "spiking": break;
                default: throw new FormatException($"surrogate parameter '{p.Name}' = {p.Value.GetRawText()} of {context} is not supported");
            }
        }
        return Surrogate.Create(name, values);
    }
}
