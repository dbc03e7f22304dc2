using System;
using FsCheck.Xunit;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>The fused op against the naive double-precision BPTT of <see cref="NeuronReference"/>.</summary>
public sealed class NeuronBackwardTests
{
    public static TheoryData<LifKind, bool, bool, bool> Combinations()
    {
        var data = new TheoryData<LifKind, bool, bool, bool>();
        foreach (var model in new[] { LifKind.IntegrateAndFire, LifKind.LeakyIntegrateAndFire, LifKind.ParametricLeakyIntegrateAndFire })
        {
            foreach (bool decay in model == LifKind.IntegrateAndFire ? new[] { true } : new[] { true, false })
            {
                foreach (bool hard in new[] { true, false })
                {
                    foreach (bool detach in new[] { true, false }) data.Add(model, decay, hard, detach);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Every_model_reset_and_detach_matches_the_double_reference(LifKind model, bool decayInput, bool hard, bool detach)
    {
        // Rows of 70 neurons: two words per row, vector tails; 4 x 6 rows per step; 7 steps.
        var c = new NeuronCase([7, 4, 6, 70], model, decayInput, hard, detach, "ATan", 1f, 0f, 2.0, 0.3, 42);
        Check(c);
    }

    [Theory]
    [InlineData(3, 2, 4100)] // rows longer than a chunk: one row per chunk
    [InlineData(4, 300, 28)] // many short rows: several chunks of 146 rows and a partial one
    [InlineData(2, 5000, 1)] // rows of one neuron
    [InlineData(5, 3, 63)]
    public void Chunk_and_row_edges_match_the_double_reference(int steps, int rows, int rowLength)
    {
        var c = new NeuronCase([steps, rows, rowLength], LifKind.ParametricLeakyIntegrateAndFire, true, true, false, "Sigmoid", 1f, -0.25f, 2.0, -0.4, 7);
        Check(c);
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 60)]
    public void Random_problems_match_the_double_reference(NeuronCase c) => Check(c);

    [Fact]
    public void A_user_surrogate_drives_the_neuron()
    {
        var options = TestNeurons.Lif(surrogate: new Surrogates.TriangleSurrogate(0.7f));
        var c = new NeuronCase([6, 50], LifKind.LeakyIntegrateAndFire, true, true, false, "ATan", 1f, 0f, 2.0, 0, 9);
        var (x, g) = c.Inputs();
        var expected = NeuronReference.Run(options, 0, x, g, 6);
        NeuronHarness.AssertMatches(expected, NeuronHarness.Multi(options, 0, x, g, c.Shape), "triangle surrogate");
    }

    [Fact]
    public void Spike_bits_are_the_threshold_of_h_with_zero_padding()
    {
        foreach (int rowLength in new[] { 1, 7, 8, 28, 63, 64, 65, 130 })
        {
            var c = new NeuronCase([3, 5, rowLength], LifKind.IntegrateAndFire, true, false, false, "ATan", 1f, 0f, 2.0, 0, rowLength);
            var (x, g) = c.Inputs();
            var run = NeuronHarness.Multi(c.Options(), 0, x, g, c.Shape);
            using var h = Tensor.FromSpan(run.H, c.Shape);
            using var expected = SpikeTensor.FromThreshold(h, 1f);
            Assert.Equal(expected.Words.ToArray(), run.Words);
        }
    }

    internal static void Check(NeuronCase c)
    {
        var options = c.Options();
        var (x, g) = c.Inputs();
        var expected = NeuronReference.Run(options, c.W, x, g, c.Steps);
        Assert.True(expected.Margin >= 1e-3 || x.Length == 0, $"{c}: margin {expected.Margin}");
        NeuronHarness.AssertMatches(expected, NeuronHarness.Multi(options, c.W, x, g, c.Shape), c.ToString());
    }
}
