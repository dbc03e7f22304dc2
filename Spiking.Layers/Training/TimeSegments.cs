using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// A classifier's training step run in pieces of the time axis (every <see cref="TrainingMethod"/> but BPTT): the
/// model's neurons carry their state from one piece to the next (<see cref="SpikingNeuron.CarryState"/>), so a piece
/// of k steps holds a graph of k steps, not T. A <see cref="Sequential"/> static prefix runs once per batch; the
/// pieces start from a leaf copy of its output, whose gradient goes back through the prefix at the end.
/// </summary>
/// <remarks>
/// Per-step-loss methods (SLTT, SLTT-K, truncation) back-propagate each piece's share of the TET loss
/// (<see cref="Losses.Tet"/> on the piece's output, weighted by its steps over T, so the pieces' losses sum to TET on
/// the whole output) and cut the gradient through time between pieces. Checkpointing keeps BPTT's gradients: a first
/// pass without a graph keeps the neuron states at every piece's start and the whole output, the model's own loss
/// gives the output's gradient, and the pieces are recomputed last first, each from a leaf copy of its saved state,
/// with the gradient of its final state (the next piece's initial-state gradient) joining its output's. Batch norms
/// normalise over the steps of a piece (per step for SLTT, as in the paper); the recomputation restores their running
/// statistics and replays dropout masks.
/// </remarks>
internal sealed class TimeSegments
{
    private readonly Module _model;
    private readonly Sequential? _staticModel;
    private readonly List<SpikingNeuron> _neurons = [];
    private readonly List<NeuronState> _carried = [];
    private readonly List<Dropout> _dropouts = [];
    private readonly List<BatchNorm> _norms = [];
    private readonly TrainingMethod _method;
    private readonly double _lambda;
    private readonly PhiloxGenerator _stepDraws;

    public TimeSegments(Module model, TrainingMethod method, double lambda, ulong seed)
    {
        _model = model;
        _method = method;
        _lambda = lambda;
        _stepDraws = new PhiloxGenerator(seed, RandomStreams.TrainingSteps);
        _staticModel = model is Sequential { StaticLayers: > 0 } sequential ? sequential : null;
        foreach (var (name, module) in model.NamedModules())
        {
            switch (module)
            {
                case SpikingNeuron neuron: _neurons.Add(neuron); break;
                case INeuronLayer:
                    throw new NotSupportedException(
                        $"Training by {method}: layer '{name}' ({module.GetType().Name}) cannot carry its state from one piece of the time axis to the next; " +
                        "only SpikingNeuron layers can. Train this model with bptt.");
                case Dropout dropout: _dropouts.Add(dropout); break;
                case BatchNorm norm: _norms.Add(norm); break;
            }
        }
    }

    /// <summary>
    /// Runs the forward and backward of one batch (the caller steps the optimizer): <paramref name="input"/> is the
    /// encoded batch, <paramref name="loss"/> the model's own loss on the whole output (checkpointing).
    /// </summary>
    /// <returns>The loss (TET's for per-step methods, the model's for checkpointing) and the whole output <c>[T, B, …]</c>, without a graph.</returns>
    public (double Loss, Variable Output) Run(Variable input, int[] labels, int batch, Func<Variable, int[], int, Variable> loss)
    {
        int steps = _staticModel?.StaticTimeSteps ?? input.Shape[0];
        Variable? prefix = null, prefixLeaf = null;
        var owned = new List<IDisposable>();
        try
        {
            if (_staticModel is not null)
            {
                prefix = _staticModel.ForwardPrefix(input);
                prefixLeaf = Variable.Input(prefix.Dense.Clone(), "static prefix output");
                owned.Add(prefixLeaf);
            }
            foreach (var neuron in _neurons)
            {
                neuron.CarryState = true;
                neuron.State = null;
            }
            Func<int, int, Variable> piece = prefixLeaf is null
                ? (start, count) => _model.Forward(Functional.Narrow(input, 0, start, count))
                : (_, count) => _staticModel!.ForwardAfterPrefix(prefixLeaf, count);
            var result = _method.PerStepLoss
                ? PerStepLoss(piece, steps, labels, owned)
                : Checkpointed(piece, steps, labels, batch, loss, owned);
            if (prefix is not null && prefixLeaf!.Grad is { } prefixGradient) prefix.Backward(prefixGradient);
            return result;
        }
        finally
        {
            foreach (var neuron in _neurons) neuron.CarryState = false;
            foreach (var item in owned) item.Dispose();
            foreach (var state in _carried) state.Dispose();
            _carried.Clear();
        }
    }

    private (double Loss, Variable Output) PerStepLoss(Func<int, int, Variable> piece, int steps, int[] labels, List<IDisposable> owned)
    {
        int length = _method.Kind == TrainingMethodKind.Tbptt ? _method.Steps : 1;
        var trained = TrainedSteps(steps);
        var outputs = new List<Variable>();
        double total = 0;
        for (int start = 0; start < steps; start += length)
        {
            int count = Math.Min(length, steps - start);
            // Each piece's activations go back to the pool when it ends, so memory holds one piece, not T steps.
            using var scope = DisposeScope.Begin();
            Variable output;
            if (trained is not null && !trained[start])
            {
                using (GradMode.NoGrad()) output = piece(start, count);
            }
            else
            {
                output = piece(start, count);
                var share = Functional.Multiply(Losses.Tet(output, labels, _lambda), (float)((double)count / steps));
                total += share.Dense.ToScalar();
                share.Backward();
            }
            outputs.Add(Owned(output.Detach(), owned));
            CarryDetached();
        }
        return (total, Functional.Concat(outputs, 0));
    }

    /// <summary>
    /// Replaces every neuron's state (a piece's output, freed with the piece) by a detached copy that outlives it:
    /// the next piece starts from the same values, with the gradient through time cut.
    /// </summary>
    private void CarryDetached()
    {
        // The copies the ended piece started from are spent: its graph kept what it needed of them.
        foreach (var spent in _carried) spent.Dispose();
        _carried.Clear();
        foreach (var neuron in _neurons)
        {
            neuron.DetachState();
            if (neuron.State is { } detached) _carried.Add(detached);
        }
    }

    /// <summary>SLTT-K's trained steps, K of the T drawn without replacement from the seeded stream; null: every step.</summary>
    private bool[]? TrainedSteps(int steps)
    {
        if (_method.Kind != TrainingMethodKind.SlttK) return null;
        var trained = new bool[steps];
        if (_method.Steps >= steps)
        {
            Array.Fill(trained, true);
            return trained;
        }
        // A partial Fisher–Yates shuffle of the step indices, one uniform draw per pick.
        var order = new int[steps];
        for (int i = 0; i < steps; i++) order[i] = i;
        Span<float> draws = stackalloc float[1];
        for (int i = 0; i < _method.Steps; i++)
        {
            _stepDraws.FillUniform(draws);
            int j = i + Math.Min(steps - i - 1, (int)(draws[0] * (steps - i)));
            (order[i], order[j]) = (order[j], order[i]);
            trained[order[i]] = true;
        }
        return trained;
    }

    private (double Loss, Variable Output) Checkpointed(Func<int, int, Variable> piece, int steps, int[] labels, int batch,
        Func<Variable, int[], int, Variable> loss, List<IDisposable> owned)
    {
        int length = _method.Steps, pieces = (steps + length - 1) / length;
        // saved[s][i]: neuron i's state entering piece s (null: rest), copies that outlive the pieces' scopes.
        var saved = new Tensor[]?[pieces][];
        var dropoutOffsets = new ulong[pieces][];
        var outputs = new List<Variable>(pieces);
        using (GradMode.NoGrad())
        {
            saved[0] = new Tensor[]?[_neurons.Count];
            for (int s = 0; s < pieces; s++)
            {
                dropoutOffsets[s] = new ulong[_dropouts.Count];
                for (int d = 0; d < _dropouts.Count; d++) dropoutOffsets[s][d] = _dropouts[d].Generator.Offset;
                using var scope = DisposeScope.Begin();
                outputs.Add(Owned(piece(s * length, Math.Min(length, steps - s * length)).Detach(), owned));
                if (s + 1 < pieces) saved[s + 1] = new Tensor[]?[_neurons.Count];
                for (int i = 0; i < _neurons.Count; i++)
                {
                    var state = _neurons[i].State!;
                    if (s + 1 < pieces)
                    {
                        var copies = new Tensor[state.Variables.Count];
                        for (int j = 0; j < copies.Length; j++) copies[j] = Owned(state.Variables[j].Dense.Clone(), owned);
                        saved[s + 1][i] = copies;
                    }
                }
                CarryDetached();
            }
        }
        var endOffsets = new ulong[_dropouts.Count];
        for (int d = 0; d < _dropouts.Count; d++) endOffsets[d] = _dropouts[d].Generator.Offset;
        var runningStatistics = SaveRunningStatistics(owned);

        var whole = Functional.Concat(outputs, 0);
        var outputLeaf = Variable.Input((whole.IsSpikes ? Functional.SpikesToDense(whole) : whole).Dense.Clone(), "output");
        owned.Add(outputLeaf);
        var total = loss(outputLeaf, labels, batch);
        double lossValue = total.Dense.ToScalar();
        total.Backward();
        var outputGradient = outputLeaf.Grad!;

        Variable[][]? later = null;
        for (int s = pieces - 1; s >= 0; s--)
        {
            int start = s * length, count = Math.Min(length, steps - start);
            var leaves = new Variable[_neurons.Count][];
            for (int i = 0; i < _neurons.Count; i++)
            {
                if (saved[s][i] is not { } copies)
                {
                    _neurons[i].State = null;
                    leaves[i] = [];
                    continue;
                }
                leaves[i] = new Variable[copies.Length];
                for (int j = 0; j < copies.Length; j++) leaves[i][j] = Variable.Input(copies[j].Clone(), _neurons[i].Model.StateNames[j]);
                _neurons[i].State = new NeuronState(_neurons[i].Model.StateNames, leaves[i]);
            }
            for (int d = 0; d < _dropouts.Count; d++) _dropouts[d].Generator.Offset = dropoutOffsets[s][d];
            using var scope = DisposeScope.Begin();
            var output = piece(start, count);
            // One backward for both gradients entering the piece: Σ output·g_output + Σ final·g_final has exactly
            // those gradients with respect to the output and the final state.
            var surrogate = Functional.Sum(Functional.Multiply(output, Owned(Variable.Constant(Narrowed(outputGradient, start, count)), owned)));
            if (later is not null)
            {
                for (int i = 0; i < _neurons.Count; i++)
                {
                    var final = _neurons[i].State!;
                    for (int j = 0; j < later[i].Length; j++)
                    {
                        if (later[i][j].Grad is not { } g) continue;
                        var stateGradient = Owned(Variable.Constant(g.Clone()), owned);
                        surrogate = Functional.Add(surrogate, Functional.Sum(Functional.Multiply(final.Variables[j], stateGradient)));
                    }
                }
            }
            surrogate.Backward();
            _neurons.ForEach(n => n.State = null);
            DisposeAll(later);
            later = leaves;
        }
        DisposeAll(later);
        for (int d = 0; d < _dropouts.Count; d++) _dropouts[d].Generator.Offset = endOffsets[d];
        RestoreRunningStatistics(runningStatistics);
        return (lossValue, whole);
    }

    private static void DisposeAll(Variable[][]? leaves)
    {
        if (leaves is null) return;
        foreach (var row in leaves)
        {
            foreach (var leaf in row) leaf.Dispose();
        }
    }

    private static T Owned<T>(T item, List<IDisposable> owned) where T : IDisposable
    {
        owned.Add(item);
        return item;
    }

    private static Tensor Narrowed(Tensor x, int start, int count)
    {
        int perStep = x.Shape.ElementCount / x.Shape[0];
        var piece = Tensor.Empty(x.Shape.WithDimension(0, count));
        x.AsReadOnlySpan().Slice(start * perStep, count * perStep).CopyTo(piece.AsSpan());
        return piece;
    }

    private List<(BatchNorm Norm, Tensor Mean, Tensor Var, long Batches)> SaveRunningStatistics(List<IDisposable> owned)
    {
        var saved = new List<(BatchNorm, Tensor, Tensor, long)>(_norms.Count);
        foreach (var norm in _norms)
        {
            var mean = norm.RunningMean.Clone();
            var variance = norm.RunningVar.Clone();
            owned.Add(mean);
            owned.Add(variance);
            saved.Add((norm, mean, variance, norm.BatchesTracked.Value));
        }
        return saved;
    }

    private static void RestoreRunningStatistics(List<(BatchNorm Norm, Tensor Mean, Tensor Var, long Batches)> saved)
    {
        foreach (var (norm, mean, variance, batches) in saved)
        {
            mean.AsReadOnlySpan().CopyTo(norm.RunningMean.AsSpan());
            variance.AsReadOnlySpan().CopyTo(norm.RunningVar.AsSpan());
            norm.BatchesTracked.Value = batches;
        }
    }
}
