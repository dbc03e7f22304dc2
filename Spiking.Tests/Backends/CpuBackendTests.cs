using System;
using Spiking.Autograd;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Spiking.Tensors.Backends;
using Xunit;

namespace Spiking.Tests.Backends;

/// <summary>
/// The CPU backend is the reference device backends are checked against, so its kernels are checked here against
/// naive double loops and against the autograd ops the training path runs.
/// </summary>
public sealed class CpuBackendTests
{
    private static readonly ComputeBackend Cpu = ComputeBackend.Cpu;

    [Theory]
    [InlineData(true, false, SurrogateKind.ATan)]
    [InlineData(true, true, SurrogateKind.Sigmoid)]
    [InlineData(false, false, SurrogateKind.ATan)]
    [InlineData(false, true, SurrogateKind.Sigmoid)]
    public void NeuronReferenceEqualsTheFusedLifOp(bool hardReset, bool detach, SurrogateKind surrogateKind)
    {
        const int steps = 5, batch = 3, neurons = 70;
        var generator = new PhiloxGenerator(17, (ulong)(hardReset ? 1 : 2) + (detach ? 4UL : 0));
        using var x = generator.Normal(new Shape(steps, batch, neurons), 0.6f, 0.8f);
        using var gradSpikes = generator.Normal(new Shape(steps, batch, neurons));
        Surrogate surrogate = surrogateKind == SurrogateKind.ATan ? new ATan(2.0) : new Sigmoid(4.0);
        float? vReset = hardReset ? 0f : null;

        using var input = Variable.Parameter(x.Clone());
        using var spikesOp = Functional.LifMultiStep(input, tau: 2.0, decayInput: true, vThreshold: 1f, vReset: vReset, detachReset: detach, surrogate: surrogate);
        spikesOp.Backward(gradSpikes);

        var spec = new NeuronKernelSpec(ChargeRule.DecayInputLeak, hardReset, detach, 1f, 0f, 0.5f, surrogateKind, surrogateKind == SurrogateKind.ATan ? 2f : 4f);
        using var spikes = SpikeTensor.Zeros(x.Shape);
        using var h = Tensor.Empty(x.Shape);
        using var gradX = Tensor.Empty(x.Shape);
        Cpu.NeuronForward(x, steps, spec, spikes, h, null);
        Cpu.NeuronBackward(h, gradSpikes, steps, spec, gradX);

        Assert.Equal(spikesOp.Spikes!.Words.ToArray(), spikes.Words.ToArray());
        var expected = input.Grad!.ToArray();
        var actual = gradX.ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6f * (1 + Math.Abs(expected[i])), $"dx[{i}]: {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void SumRowsAddRowVectorAndSumMatchDoubleLoops()
    {
        var generator = new PhiloxGenerator(3);
        using var x = generator.Normal(new Shape(7, 13));
        using var v = generator.Normal(new Shape(13));
        using var rows = Tensor.Empty(13);
        using var total = Tensor.Empty(new Shape());
        Cpu.SumRows(x, rows);
        Cpu.Sum(x, total);
        using var y = x.Clone();
        Cpu.AddRowVector(y, v);
        var xs = x.ToArray();
        double all = 0;
        for (int c = 0; c < 13; c++)
        {
            double s = 0;
            for (int r = 0; r < 7; r++) s += xs[r * 13 + c];
            all += s;
            Assert.Equal(s, rows.GetValue(c), 5);
            for (int r = 0; r < 7; r++) Assert.Equal(xs[r * 13 + c] + (double)v.GetValue(c), y.GetValue(r, c), 5);
        }
        Assert.Equal(all, total.ToScalar(), 4);
    }

    [Fact]
    public void BernoulliRepeatsEqualOneGeneratorCallPerRepeat()
    {
        var probabilities = new PhiloxGenerator(9).Uniform(new Shape(5, 70));
        var expected = SpikeTensor.Zeros(3, 5, 70);
        var reference = new PhiloxGenerator(0xABCDEF0123UL, 4) { Offset = 10 };
        for (int t = 0; t < 3; t++)
        {
            using var step = expected[t];
            reference.FillBernoulli(probabilities.AsReadOnlySpan(), 70, step.Words);
        }
        var generator = new PhiloxGenerator(0xABCDEF0123UL, 4) { Offset = 10 };
        using var actual = SpikeTensor.Zeros(3, 5, 70);
        generator.Bernoulli(probabilities, 3, actual);
        Assert.Equal(expected.Words.ToArray(), actual.Words.ToArray());
        Assert.Equal(reference.Offset, generator.Offset);
        probabilities.Dispose();
        expected.Dispose();
    }

    [Fact]
    public void AdamStepEqualsTheAdamOptimizer()
    {
        var generator = new PhiloxGenerator(21);
        using var start = generator.Normal(new Shape(37));
        using var grad = generator.Normal(new Shape(37));
        using var parameter = new Spiking.Layers.Parameter(start.Clone());
        var adam = new Spiking.Layers.Adam([parameter], learningRate: 0.01);
        parameter.Variable.Grad = grad.Clone();
        adam.Step();

        using var value = start.Clone();
        using var m = Tensor.Zeros(37);
        using var v = Tensor.Zeros(37);
        var spec = new AdamStepSpec((float)-(0.01 / (1 - 0.9)), (float)Math.Sqrt(1 - 0.999), 1e-8f, (float)(1 - 0.9), 0.999f, (float)(1 - 0.999), 0f, 1f, true);
        Cpu.AdamStep(value, grad, m, v, spec);
        Assert.Equal(parameter.Value.ToArray(), value.ToArray());
    }
}
