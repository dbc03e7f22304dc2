using System;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>
/// QIF, EIF, Izhikevich, the adaptive LIF and the current-based LIF on the fused kernel: against the naive
/// double-precision BPTT of <see cref="RecurrentReference"/>, against the same dynamics composed from autograd ops,
/// single steps against one multi-step call, and a sequence split in two calls against one.
/// </summary>
public sealed class RecurrentNeuronTests
{
    private static readonly string[] s_surrogates = ["Sigmoid", "ATan", "PiecewiseQuadratic", "SoftSign", "Erf", "PiecewiseLeakyReLU", "Rect"];

    public static TheoryData<RecurrentKind, int, bool, bool> Combinations()
    {
        var data = new TheoryData<RecurrentKind, int, bool, bool>();
        foreach (var kind in RecurrentModels.Kinds)
        {
            for (int variant = 0; variant < RecurrentModels.Variants; variant++)
            {
                foreach (bool hard in new[] { true, false })
                {
                    foreach (bool detach in new[] { true, false }) data.Add(kind, variant, hard, detach);
                }
            }
        }
        return data;
    }

    public static TheoryData<RecurrentKind, bool, bool> ResetVariants()
    {
        var data = new TheoryData<RecurrentKind, bool, bool>();
        foreach (var kind in RecurrentModels.Kinds)
        {
            foreach (bool hard in new[] { true, false })
            {
                foreach (bool detach in new[] { true, false }) data.Add(kind, hard, detach);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Every_setting_reset_and_detach_matches_the_double_reference(RecurrentKind kind, int variant, bool hard, bool detach)
    {
        // Rows of 70 neurons: two words per row and vector tails; 3 x 4 rows per step; 7 steps; a surrogate per combination.
        string surrogate = s_surrogates[((int)kind * 4 + variant * 2 + (hard ? 1 : 0)) % s_surrogates.Length];
        Check(new RecurrentNeuronCase([7, 3, 4, 70], kind, variant, hard, detach, surrogate, 1f, -0.1f, 11 * variant + (int)kind));
    }

    [Theory]
    [InlineData(3, 2, 4100)] // rows longer than a chunk: one row per chunk
    [InlineData(4, 300, 28)] // many short rows: several chunks and a partial one
    [InlineData(2, 5000, 1)] // rows of one neuron
    [InlineData(5, 3, 63)]
    public void Chunk_and_row_edges_match_the_double_reference(int steps, int rows, int rowLength)
    {
        foreach (var kind in RecurrentModels.Kinds)
        {
            Check(new RecurrentNeuronCase([steps, rows, rowLength], kind, 1, true, false, "Sigmoid", 1f, -0.25f, 7));
        }
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 100)]
    public void Random_problems_match_the_double_reference(RecurrentNeuronCase c) => Check(c);

    [Theory]
    [MemberData(nameof(ResetVariants))]
    public void Fused_equals_the_op_composition(RecurrentKind kind, bool hard, bool detach)
    {
        var c = new RecurrentNeuronCase([6, 5, 37], kind, 2, hard, detach, "ATan", 1f, -0.1f, 31);
        var model = c.Model();
        var (x, g) = c.Inputs();
        var fused = RecurrentHarness.Multi(model, x, g, c.Shape);
        using var input = Variable.Input(Tensor.FromSpan(x, c.Shape));
        using var composed = RecurrentModels.Composed(model, input);
        using var gradient = Tensor.FromSpan(g, c.Shape);
        using (var dense = composed.ToDense()) Assert.Equal(fused.Spikes, dense.ToArray());
        composed.Backward(gradient);
        Golden.AssertClose(Array.ConvertAll(input.Grad!.ToArray(), v => (double)v), fused.GradX, $"{c} fused vs composed dL/dx", rel: 1e-4, abs: 1e-5);
    }

    [Theory]
    [MemberData(nameof(ResetVariants))]
    public void T_single_steps_equal_one_multi_step_call(RecurrentKind kind, bool hard, bool detach)
    {
        var c = new RecurrentNeuronCase([6, 3, 70], kind, 1, hard, detach, "Sigmoid", 1f, -0.25f, 123);
        var model = c.Model();
        var (x, g) = c.Inputs();
        var multi = RecurrentHarness.Multi(model, x, g, c.Shape);
        var single = RecurrentHarness.SingleSteps(model, x, g, c.Shape);
        Assert.Equal(multi.Words, single.Words);
        Assert.Equal(multi.Traces.Keys, single.Traces.Keys);
        foreach (var (name, values) in multi.Traces) Reference.AssertBitwise(values, single.Traces[name], name);
        Golden.AssertClose(Array.ConvertAll(multi.GradX, v => (double)v), single.GradX, "dL/dx", rel: 1e-5, abs: 1e-6);
    }

    [Theory]
    [MemberData(nameof(ResetVariants))]
    public void A_sequence_split_in_two_calls_equals_one_call(RecurrentKind kind, bool hard, bool detach)
    {
        var c = new RecurrentNeuronCase([7, 4, 33], kind, 3, hard, detach, "Erf", 1f, -0.1f, 77);
        var model = c.Model();
        var (x, g) = c.Inputs();
        var rng = new Random(5);
        int perStep = c.Shape.ElementCount / c.Steps;
        var gradFinal = new float[model.StateNames.Count][];
        for (int j = 0; j < gradFinal.Length; j++)
        {
            gradFinal[j] = new float[perStep];
            for (int i = 0; i < perStep; i++) gradFinal[j][i] = (float)Reference.Normal(rng);
        }
        var (spikes, final, gradX) = RecurrentHarness.Split(model, x, g, gradFinal, c.Shape, split: 0);
        foreach (int split in new[] { 1, 3, 6 })
        {
            var (splitSpikes, splitFinal, splitGradX) = RecurrentHarness.Split(model, x, g, gradFinal, c.Shape, split);
            Assert.Equal(spikes, splitSpikes);
            for (int j = 0; j < final.Length; j++) Reference.AssertBitwise(final[j], splitFinal[j], $"final {model.StateNames[j]} (split {split})");
            Golden.AssertClose(Array.ConvertAll(gradX, v => (double)v), splitGradX, $"dL/dx (split {split})", rel: 1e-5, abs: 1e-6);
        }
    }

    [Fact]
    public void The_test_problems_fire_and_rest()
    {
        // The properties above only test the spike paths if the problems fire: about a third of the neurons per step.
        var rates = new System.Collections.Generic.List<string>();
        foreach (var kind in RecurrentModels.Kinds)
        {
            for (int variant = 0; variant < RecurrentModels.Variants; variant++)
            {
                var c = new RecurrentNeuronCase([8, 64, 70], kind, variant, true, false, "ATan", 1f, -0.1f, 3);
                var (x, g) = c.Inputs();
                var run = RecurrentReference.Run(c.Model(), x, g, c.Steps);
                double rate = (double)Array.FindAll(run.S, s => s).Length / run.S.Length;
                if (rate is <= 0.05 or >= 0.8) rates.Add($"{c}: firing rate {rate:F3}");
            }
        }
        Assert.True(rates.Count == 0, string.Join(Environment.NewLine, rates));
    }

    internal static void Check(RecurrentNeuronCase c)
    {
        var model = c.Model();
        var (x, g) = c.Inputs();
        var expected = RecurrentReference.Run(model, x, g, c.Steps);
        Assert.True(expected.Margin >= 1e-3 || x.Length == 0, $"{c}: margin {expected.Margin}");
        RecurrentHarness.AssertMatches(expected, RecurrentHarness.Multi(model, x, g, c.Shape), c.ToString());
    }
}
