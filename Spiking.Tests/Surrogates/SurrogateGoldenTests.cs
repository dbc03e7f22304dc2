using System.Collections.Generic;
using System.Text.Json;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Surrogates;

/// <summary>Every case of <c>../shared/golden/surrogate.json</c>: spike and gradient through the scalar, vector and op paths.</summary>
public sealed class SurrogateGoldenTests
{
    public static TheoryData<string> Cases() => Golden.CaseIds("surrogate.json");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_SpikingJelly(string id) => Golden.WithCase("surrogate.json", id, c =>
    {
        string name = c.GetProperty("surrogate").GetString()!;
        var parameters = new Dictionary<string, double>();
        foreach (var p in c.GetProperty("params").EnumerateObject()) parameters[p.Name] = p.Value.GetDouble();
        var surrogate = Surrogate.Create(name, parameters);
        Assert.Equal(name, surrogate.Name);
        if (c.GetProperty("is_default_params").GetBoolean())
        {
            // The golden file was made with SpikingJelly's defaults: ours must be the same.
            Assert.Equal(parameters, Surrogate.Create(name).Parameters);
        }
        var x = Golden.Floats(c.GetProperty("x"));
        var spikeRef = Golden.Flat(c.GetProperty("spike"));
        var gradRef = Golden.Flat(c.GetProperty("grad"));

        var scalar = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(spikeRef[i], Surrogate.Heaviside(x[i]));
            scalar[i] = surrogate.Derivative(x[i]);
        }
        Golden.AssertClose(gradRef, scalar, $"{id} scalar");

        var vector = new float[x.Length];
        surrogate.Derivative(x, vector);
        Golden.AssertClose(gradRef, vector, $"{id} vector");

        using var input = Variable.Input(Tensor.FromArray(x, x.Length));
        using var spikes = Functional.Spike(input, surrogate);
        using var ones = Tensor.Ones(spikes.Shape);
        spikes.Backward(ones);
        using var dense = spikes.ToDense();
        for (int i = 0; i < x.Length; i++) Assert.Equal(spikeRef[i], dense.AsReadOnlySpan()[i]);
        Golden.AssertClose(gradRef, input.Grad!.AsReadOnlySpan(), $"{id} op");
    });
}
