using System;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>
/// IF, LIF and the parametric LIF on the dynamics kernel every model shares, against the first kernel written for
/// them alone (<see cref="LifKernelV1"/>, kept beside it): the port changed no bit of the spikes, the potentials or
/// <c>dL/dx</c>. <c>dL/dw</c> is summed in the same order except over a chunk's last partial vector, whose lanes the
/// first kernel summed in double one by one and the shared kernel adds as one vector: equal bits when rows fill
/// whole vectors, float rounding otherwise.
/// </summary>
public sealed class LifKernelVariantTests
{
    public static TheoryData<LifKind, bool, bool, bool, string> Models()
    {
        var data = new TheoryData<LifKind, bool, bool, bool, string>();
        foreach (var kind in new[] { LifKind.IntegrateAndFire, LifKind.LeakyIntegrateAndFire, LifKind.ParametricLeakyIntegrateAndFire })
        {
            foreach (bool decay in new[] { true, false })
            {
                foreach (bool hard in new[] { true, false })
                {
                    foreach (bool detach in new[] { true, false })
                    {
                        foreach (var surrogate in new[] { "ATan", "Sigmoid", "Erf", "PiecewiseLeakyReLU" }) data.Add(kind, decay, hard, detach, surrogate);
                    }
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void The_shared_kernel_gives_the_first_kernels_bits(LifKind kind, bool decayInput, bool hard, bool detach, string surrogate)
    {
        var model = TestNeurons.Of(kind, 1.7, decayInput, 0.9f, hard ? -0.1f : null, detach, Surrogate.Create(surrogate));
        foreach (int[] dims in new[] { new[] { 6, 4, 64 }, new[] { 5, 3, 70 }, new[] { 4, 300, 28 }, new[] { 3, 2, 4100 }, new[] { 7, 33, 1 } })
        {
            Compare(model, dims, exactParameterGradient: dims[^1] * Math.Min(dims[1], LifKernelV1.RowsPerChunk(dims[^1])) % 16 == 0 && dims[^1] != 4100);
        }
    }

    private static void Compare(ThresholdNeuron model, int[] dims, bool exactParameterGradient)
    {
        var shape = new Shape(dims);
        var rng = new Random(dims[^1] * 31 + dims[0]);
        var x = new float[shape.ElementCount];
        var g = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(0.4 + 0.7 * Reference.Normal(rng));
            g[i] = (float)Reference.Normal(rng);
        }
        const float w = -0.3f;
        bool parametric = model is ParametricLifNeuron;
        string what = $"{model} {Shape.Format(dims)}";

        using var xTensor = Tensor.FromSpan(x, shape);
        using var gTensor = Tensor.FromSpan(g, shape);
        using var vFirst = Tensor.Empty(shape);
        using var spikesFirst = LifKernelV1.ForwardOp(xTensor, model, w, out var hFirst, vFirst);
        using (hFirst)
        using (var gradFirst = LifKernelV1.BackwardOp(hFirst, gTensor, xTensor, model, w, out float gradWFirst))
        using (var input = Variable.Input(xTensor.Clone()))
        using (var wVar = Variable.Parameter(Tensor.Scalar(w)))
        {
            using var spikes = Functional.Neuron(input, model, parametric ? [wVar] : [], out var traces);
            using (traces)
            {
                Assert.Equal(spikesFirst.Words.ToArray(), spikes.Spikes!.Words.ToArray());
                Reference.AssertBitwise(hFirst.ToArray(), traces["h"].ToArray(), what + " h");
                Reference.AssertBitwise(vFirst.ToArray(), traces["v"].ToArray(), what + " v");
            }
            spikes.Backward(gTensor);
            Reference.AssertBitwise(gradFirst.ToArray(), input.Grad!.ToArray(), what + " dL/dx");
            if (!parametric) return;
            float gradW = wVar.Grad!.ToScalar();
            if (exactParameterGradient) Reference.AssertBitwise([gradWFirst], [gradW], what + " dL/dw");
            else Assert.True(Math.Abs(gradW - gradWFirst) <= 2e-6 * Math.Max(1, Math.Abs(gradWFirst)), $"{what}: dL/dw {gradW} vs {gradWFirst}");
        }
    }
}
