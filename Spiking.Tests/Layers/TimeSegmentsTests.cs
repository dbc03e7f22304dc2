using System;
using System.Collections.Generic;
using System.Linq;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

/// <summary>
/// The training methods that run the time axis in pieces: each against an independent construction of the gradient
/// it is defined to give. Checkpointing against one graph through every piece (and plain BPTT where the model has
/// no batch norm), SLTT against the per-step losses' gradients with each step's entering state held constant, built
/// from the neuron op's explicit states rather than the carried ones; truncation over the whole sequence against
/// BPTT on the same per-step loss.
/// </summary>
public sealed class TimeSegmentsTests
{
    private const int Steps = 6, Batch = 3, Inputs = 5, Hidden = 7, Classes = 4;
    private static readonly int[] Labels = [1, 3, 0];

    /// <summary>W1's shape in small: Linear, LIF, Linear, LIF, optionally with a dropout between.</summary>
    private static Sequential Mlp(double dropout = 0) => dropout == 0
        ? new Sequential(new Linear(Inputs, Hidden), Lif(), new Linear(Hidden, Classes), Lif())
        : new Sequential(new Linear(Inputs, Hidden), Lif(), new Dropout(dropout), new Linear(Hidden, Classes), Lif());

    private static LeakyIntegrateAndFire Lif() => new(tau: 2.0, vThreshold: 0.3f);

    /// <summary>A current large enough that the neurons fire at various steps.</summary>
    private static Variable Input(int seed)
    {
        var rng = new Random(seed);
        var values = Enumerable.Range(0, Steps * Batch * Inputs).Select(_ => (float)(rng.NextDouble() * 3 - 0.5)).ToArray();
        return Variable.Constant(Tensor.FromArray(values, Steps, Batch, Inputs));
    }

    private static Dictionary<string, float[]> Gradients(Module model)
    {
        var gradients = new Dictionary<string, float[]>();
        foreach (var (name, p) in model.NamedParameters()) gradients[name] = p.Grad?.AsReadOnlySpan().ToArray() ?? new float[p.Value.Shape.ElementCount];
        model.ZeroGrad();
        return gradients;
    }

    private static void AssertClose(Dictionary<string, float[]> expected, Dictionary<string, float[]> actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        double largest = expected.Values.SelectMany(v => v).Select(x => Math.Abs((double)x)).DefaultIfEmpty(0).Max();
        Assert.True(largest > 0, "every gradient is zero: the test would not see a wrong one");
        foreach (var (name, e) in expected)
        {
            var a = actual[name];
            for (int i = 0; i < e.Length; i++)
            {
                Assert.True(Math.Abs(a[i] - e[i]) <= tolerance * (1 + Math.Abs(e[i])), $"d loss / d {name}[{i}]: {a[i]:G9}, expected {e[i]:G9}");
            }
        }
    }

    private static Variable RateMse(Variable output, int[] labels, int batch) => Losses.FiringRateMse(output, labels);

    private static double Run(Module model, TrainingMethod method, Variable input, ulong seed = 0)
    {
        using var scope = DisposeScope.Begin();
        var segments = new TimeSegments(model, method, 0.05, seed);
        return segments.Run(input, Labels, Batch, RateMse).Loss;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(6)]
    public void Checkpointing_gives_the_gradients_of_plain_BPTT(int length)
    {
        ModelSeed.Seed(3);
        using var model = Mlp();
        using var input = Input(1);
        double bpttLoss;
        using (DisposeScope.Begin())
        {
            var loss = RateMse(model.Forward(input), Labels, Batch);
            bpttLoss = loss.Dense.ToScalar();
            loss.Backward();
        }
        var bptt = Gradients(model);
        double checkpointLoss = Run(model, new TrainingMethod(TrainingMethodKind.Checkpoint, length), input);
        Assert.Equal(bpttLoss, checkpointLoss, 6);
        AssertClose(bptt, Gradients(model));
    }

    [Theory]
    [InlineData(2, 0.0)]
    [InlineData(4, 0.3)]
    public void Checkpointing_gives_the_gradients_of_one_graph_through_every_piece_with_batch_norm_and_dropout(int length, double dropout)
    {
        // With batch norm over each piece's steps and dropout masks drawn per piece, the model run in pieces is its
        // own function; one graph through all pieces (the neurons' carried states not detached) is its BPTT.
        ModelSeed.Seed(5);
        using var model = new Sequential(new Linear(Inputs, Hidden), new BatchNorm1d(Hidden), Lif(), new Dropout(dropout), new Linear(Hidden, Classes), Lif());
        using var input = Input(2);
        var norm = (BatchNorm1d)model[1];
        var dropoutLayer = (Dropout)model[3];
        ulong startOffset = dropoutLayer.Generator.Offset;
        var meanBefore = norm.RunningMean.AsReadOnlySpan().ToArray();
        var neurons = model.NamedModules().Select(m => m.Module).OfType<SpikingNeuron>().ToArray();
        double oneGraphLoss;
        using (DisposeScope.Begin())
        {
            foreach (var n in neurons) n.CarryState = true;
            var outputs = new List<Variable>();
            for (int start = 0; start < Steps; start += length)
            {
                outputs.Add(model.Forward(Functional.Narrow(input, 0, start, Math.Min(length, Steps - start))));
            }
            foreach (var n in neurons) n.CarryState = false;
            var loss = RateMse(Functional.Concat(outputs, 0), Labels, Batch);
            oneGraphLoss = loss.Dense.ToScalar();
            loss.Backward();
        }
        var oneGraph = Gradients(model);
        var meanAfterOneGraph = norm.RunningMean.AsReadOnlySpan().ToArray();
        ulong offsetAfterOneGraph = dropoutLayer.Generator.Offset;

        meanBefore.CopyTo(norm.RunningMean.AsSpan());
        norm.BatchesTracked.Value -= (Steps + length - 1) / length;
        dropoutLayer.Generator.Offset = startOffset;
        double checkpointLoss = Run(model, new TrainingMethod(TrainingMethodKind.Checkpoint, length), input);
        Assert.Equal(oneGraphLoss, checkpointLoss, 6);
        AssertClose(oneGraph, Gradients(model));
        Assert.Equal(meanAfterOneGraph, norm.RunningMean.AsReadOnlySpan().ToArray());
        Assert.Equal(offsetAfterOneGraph, dropoutLayer.Generator.Offset);
    }

    /// <summary>
    /// SLTT's definition, built step by step from the neuron op's explicit initial and final states: a forward
    /// without a graph gives every neuron's state entering each step; step t's loss is back-propagated from those
    /// states as constants; the gradients add up.
    /// </summary>
    private static Dictionary<string, float[]> SlttByDefinition(Sequential model, Variable input, IReadOnlyCollection<int> trainedSteps)
    {
        var layers = model.Layers;
        var states = new NeuronState?[Steps + 1][];
        states[0] = new NeuronState?[layers.Count];
        using (GradMode.NoGrad())
        {
            for (int t = 0; t < Steps; t++)
            {
                states[t + 1] = new NeuronState?[layers.Count];
                var x = Functional.Narrow(input, 0, t, 1);
                for (int i = 0; i < layers.Count; i++)
                {
                    if (layers[i] is SpikingNeuron neuron)
                    {
                        x = neuron.Forward(x, states[t][i], out var final);
                        states[t + 1][i] = final;
                    }
                    else
                    {
                        x = layers[i].Forward(x);
                    }
                }
            }
        }
        foreach (int t in trainedSteps)
        {
            var x = Functional.Narrow(input, 0, t, 1);
            for (int i = 0; i < layers.Count; i++)
            {
                x = layers[i] is SpikingNeuron neuron ? neuron.Forward(x, states[t][i]?.Detach(), out _) : layers[i].Forward(x);
            }
            Functional.Multiply(Losses.Tet(x, Labels, 0.05), 1f / Steps).Backward();
        }
        return Gradients(model);
    }

    [Fact]
    public void SLTT_gives_the_per_step_losses_gradients_with_each_steps_entering_state_held_constant()
    {
        ModelSeed.Seed(7);
        using var model = Mlp();
        using var input = Input(3);
        Dictionary<string, float[]> expected;
        using (DisposeScope.Begin()) expected = SlttByDefinition(model, input, Enumerable.Range(0, Steps).ToArray());
        double loss = Run(model, TrainingMethod.Sltt, input);
        AssertClose(expected, Gradients(model));
        double tet;
        using (DisposeScope.Begin()) tet = Losses.Tet(model.Forward(input), Labels, 0.05).Dense.ToScalar();
        Assert.Equal(tet, loss, 5);
    }

    [Fact]
    public void SLTT_K_trains_K_steps_drawn_by_the_seed_and_advances_the_others_without_a_graph()
    {
        ModelSeed.Seed(8);
        using var model = Mlp();
        using var input = Input(4);
        var method = new TrainingMethod(TrainingMethodKind.SlttK, 2);
        Run(model, method, input, seed: 11);
        var drawn = Gradients(model);
        Run(model, method, input, seed: 11);
        Assert.Equal(drawn["0.weight"], Gradients(model)["0.weight"]);

        // The drawn pair is the one of the C(6, 2) = 15 whose definition matches.
        var matches = new List<(int, int)>();
        for (int a = 0; a < Steps; a++)
        {
            for (int b = a + 1; b < Steps; b++)
            {
                Dictionary<string, float[]> pair;
                using (DisposeScope.Begin()) pair = SlttByDefinition(model, input, [a, b]);
                bool same = pair.All(kv => kv.Value.Zip(drawn[kv.Key]).All(z => Math.Abs(z.First - z.Second) <= 1e-5 * (1 + Math.Abs(z.First))));
                if (same) matches.Add((a, b));
            }
        }
        Assert.Single(matches);
    }

    [Fact]
    public void Truncation_over_the_whole_sequence_is_BPTT_on_the_per_step_loss()
    {
        ModelSeed.Seed(9);
        using var model = Mlp();
        using var input = Input(5);
        using (DisposeScope.Begin()) Losses.Tet(model.Forward(input), Labels, 0.05).Backward();
        var bptt = Gradients(model);
        Run(model, new TrainingMethod(TrainingMethodKind.Tbptt, Steps), input);
        AssertClose(bptt, Gradients(model));
        Run(model, new TrainingMethod(TrainingMethodKind.Tbptt, 2), input);
        var truncated = Gradients(model);
        Assert.NotEqual(bptt["0.weight"], truncated["0.weight"]);
    }

    [Theory]
    [InlineData("sltt")]
    [InlineData("checkpoint=2")]
    public void A_static_prefix_runs_once_and_its_gradient_is_the_pieces_sum(string method)
    {
        // W2's shape in small: the convolution and batch norm of the prefix run once on the image; the pieces take
        // its output; SLTT and checkpointing at one step per piece have the same per-step batch statistics as the
        // model on one step, so the prefix's gradient is checked against the network run on T copies in pieces.
        const int steps = 3, batch = 2;
        var images = SyntheticImages.Create(batch, 5);
        using var pixels = Tensor.FromArray(images.Pixels.ToArray().Select(p => p / 255f).ToArray(), 1, batch, 1, 28, 28);
        int[] labels = [.. images.Labels.ToArray().Select(l => (int)l)];
        ModelSeed.Seed(2);
        using var model = ReferenceModels.SpikingCnn(channels: 3);
        model.UseStaticPrefix(2, steps);
        using var image = Variable.Constant(pixels.Clone());
        var parsed = TrainingMethod.Parse(method);
        using (DisposeScope.Begin()) new TimeSegments(model, parsed, 0.05, 0).Run(image, labels, batch, RateMse);
        var pieces = Gradients(model);
        Assert.Contains(pieces["0.weight"], g => g != 0);

        // The same network without the prefix shortcut, on T copies of the image, run by the same method.
        ModelSeed.Seed(2);
        using var copies = ReferenceModels.SpikingCnn(channels: 3);
        using var repeated = Variable.Constant(Tensor.FromArray(Enumerable.Repeat(pixels.AsReadOnlySpan().ToArray(), steps).SelectMany(x => x).ToArray(), steps, batch, 1, 28, 28));
        using (DisposeScope.Begin()) new TimeSegments(copies, parsed, 0.05, 0).Run(repeated, labels, batch, RateMse);
        var expected = Gradients(copies);
        // The prefix's batch norm sees T copies at once without the shortcut, one per piece with it: the same
        // statistics (copies of one step); its running variance counts differ, its gradients do not.
        AssertClose(expected, pieces, 1e-4);
    }

    [Fact]
    public void A_neuron_layer_that_cannot_carry_its_state_is_refused_by_name()
    {
        using var model = new Sequential(new Linear(Inputs, Hidden), new ParallelSpikingNeuron(Steps));
        var e = Assert.Throws<NotSupportedException>(() => new TimeSegments(model, TrainingMethod.Sltt, 0.05, 0));
        Assert.Contains("'1'", e.Message, StringComparison.Ordinal);
        Assert.Contains("ParallelSpikingNeuron", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sequence_fed_in_pieces_to_carrying_neurons_gives_the_spikes_of_one_call_and_reset_returns_to_rest()
    {
        ModelSeed.Seed(10);
        using var model = Mlp();
        using var input = Input(6);
        using var scope = DisposeScope.Begin();
        var whole = model.Forward(input).Spikes!.ToTensor().AsReadOnlySpan().ToArray();
        var neurons = model.NamedModules().Select(m => m.Module).OfType<SpikingNeuron>().ToArray();
        foreach (var n in neurons) n.CarryState = true;
        var pieces = new List<float>();
        foreach (var (start, count) in new[] { (0, 1), (1, 3), (4, 2) })
        {
            pieces.AddRange(model.Forward(Functional.Narrow(input, 0, start, count)).Spikes!.ToTensor().AsReadOnlySpan().ToArray());
        }
        Assert.Equal(whole, pieces);
        model.ResetState();
        Assert.All(neurons, n => Assert.Null(n.State));
        foreach (var n in neurons) n.CarryState = false;
    }

    [Theory]
    [InlineData("bptt", TrainingMethodKind.Bptt, 1)]
    [InlineData("sltt", TrainingMethodKind.Sltt, 1)]
    [InlineData("sltt-k=3", TrainingMethodKind.SlttK, 3)]
    [InlineData("tbptt=8", TrainingMethodKind.Tbptt, 8)]
    [InlineData("checkpoint=2", TrainingMethodKind.Checkpoint, 2)]
    public void Training_methods_parse_and_print_back(string text, TrainingMethodKind kind, int steps)
    {
        var method = TrainingMethod.Parse(text);
        Assert.Equal(new TrainingMethod(kind, steps), method);
        Assert.Equal(text, method.ToString());
    }

    [Theory]
    [InlineData("bpt", "unknown training method")]
    [InlineData("sltt=2", "takes no count")]
    [InlineData("tbptt", "needs a count")]
    [InlineData("checkpoint=0", "whole number of steps")]
    [InlineData("sltt-k=x", "whole number of steps")]
    public void A_malformed_training_method_says_what_was_expected(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => TrainingMethod.Parse(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
