using System;
using System.Collections.Generic;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Spiking.Tensors.Backends;

namespace Spiking.Autograd
{
    public static partial class Functional
    {
        /// <summary>
        /// A layer of spiking neurons of any <paramref name="model"/> in multi-step mode: one fused op over the input
        /// current <paramref name="xSeq"/> <c>[T, ...]</c> (time first) that runs all T steps from rest (SpikingJelly's
        /// multi-step node after <c>reset_net</c>) and returns the output <c>[T, ...]</c>: spikes as bits, or floats for
        /// models with an analog or multi-level output. The backward is full backpropagation through time, with the
        /// model's surrogate in place of the spike function's derivative.
        /// </summary>
        /// <param name="xSeq">The input current, <c>[T, ...]</c> with at least one axis after time; dense.</param>
        /// <param name="model">The neuron model and its settings.</param>
        /// <param name="parameters">The model's learnable scalars, in the order of <see cref="NeuronModel.Parameters"/>.</param>
        /// <exception cref="ArgumentException"><paramref name="xSeq"/> holds spikes or has no axis after time, or the parameters do not match the model's.</exception>
        /// <exception cref="ArgumentOutOfRangeException">A parameter is not finite.</exception>
        /// <exception cref="NotSupportedException">The input is on a device without a kernel for the model; the message names both.</exception>
        public static Variable Neuron(Variable xSeq, NeuronModel model, params Variable[] parameters) =>
            NeuronNode.Run(xSeq, model, parameters, null, singleStep: false, keepFinal: false, traces: false, out _, out _);

        /// <summary>
        /// <see cref="Neuron(Variable, NeuronModel, Variable[])"/> that also records every step's state variables, saved
        /// values and internal spikes (<paramref name="traces"/>: <c>v</c> is SpikingJelly's <c>v_seq</c>, <c>h</c> the
        /// potential before firing); the caller owns them.
        /// </summary>
        public static Variable Neuron(Variable xSeq, NeuronModel model, IReadOnlyList<Variable> parameters, out NeuronTraces traces)
        {
            var output = NeuronNode.Run(xSeq, model, parameters, null, singleStep: false, keepFinal: false, traces: true, out _, out var recorded);
            traces = recorded!;
            return output;
        }

        /// <summary>
        /// <see cref="Neuron(Variable, NeuronModel, Variable[])"/> starting from <paramref name="initial"/> (null: rest)
        /// and returning the state after the last step in <paramref name="final"/>, for a sequence fed in pieces
        /// (streaming). Gradients flow through both unless the state is detached (<see cref="NeuronState.Detach"/>).
        /// </summary>
        /// <exception cref="ArgumentException">The initial state does not have the model's variables, each shaped like one step of <paramref name="xSeq"/>.</exception>
        public static Variable Neuron(Variable xSeq, NeuronModel model, IReadOnlyList<Variable> parameters, NeuronState? initial, out NeuronState final)
        {
            var output = NeuronNode.Run(xSeq, model, parameters, initial, singleStep: false, keepFinal: true, traces: false, out var state, out _);
            final = state!;
            return output;
        }

        /// <summary>SpikingJelly's <c>IFNode</c> in multi-step mode: <c>h_t = v_{t−1} + x_t</c>; see <see cref="IFNeuron"/>.</summary>
        public static Variable IfMultiStep(Variable xSeq, float vThreshold = 1f, float? vReset = 0f, bool detachReset = false, Surrogate? surrogate = null) =>
            Neuron(xSeq, new IFNeuron { VThreshold = vThreshold, VReset = vReset, DetachReset = detachReset, Surrogate = surrogate ?? new Sigmoid() });

        /// <summary>SpikingJelly's <c>LIFNode</c> in multi-step mode; see <see cref="LifNeuron"/>.</summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="tau"/> is not a finite number &gt; 1.</exception>
        public static Variable LifMultiStep(Variable xSeq, double tau = 2.0, bool decayInput = true, float vThreshold = 1f, float? vReset = 0f,
            bool detachReset = false, Surrogate? surrogate = null) =>
            Neuron(xSeq, new LifNeuron
            {
                Tau = tau, DecayInput = decayInput, VThreshold = vThreshold, VReset = vReset, DetachReset = detachReset, Surrogate = surrogate ?? new Sigmoid(),
            });

        /// <summary>
        /// SpikingJelly's <c>ParametricLIFNode</c> in multi-step mode: the LIF equations with <c>1/tau</c> replaced by
        /// <c>k = sigmoid(w)</c>, <paramref name="w"/> a learnable scalar that receives <c>dL/dw</c>; see <see cref="ParametricLifNeuron"/>.
        /// </summary>
        public static Variable ParametricLifMultiStep(Variable xSeq, Variable w, bool decayInput = true, float vThreshold = 1f, float? vReset = 0f,
            bool detachReset = false, Surrogate? surrogate = null) =>
            Neuron(xSeq, new ParametricLifNeuron
            {
                DecayInput = decayInput, VThreshold = vThreshold, VReset = vReset, DetachReset = detachReset, Surrogate = surrogate ?? new Sigmoid(),
            }, w);
    }
}

namespace Spiking.Autograd.Neurons
{
    /// <summary>
    /// The fused neuron op of every model: inputs x, the model's parameters and (when carried) the initial state;
    /// outputs the spikes or values and (when asked) the final state. Saves what the dynamics writes to <c>saved</c>,
    /// a view of x when its backward reads the input, and the initial state; the backward re-dispatches the model
    /// for the parameter values of the forward and runs the kernel's backward through time.
    /// </summary>
    internal sealed class NeuronNode : MultiOutputNode
    {
        private readonly NeuronModel _model;
        private readonly float[] _parameters;
        private readonly Tensor _saved;
        private readonly SavedTensor? _x;
        private readonly Tensor? _initial;
        private readonly int _steps;
        private readonly int _rowLength;
        private readonly int _stateCount;
        private readonly int _initialAt;
        private readonly Shape _stepShape;

        /// <summary>Whether the saved tensor is the node's alone (no traces hold views of it), so its backward may write over it.</summary>
        private readonly bool _ownsSaved;

        private NeuronNode(Variable[] inputs, int outputCount, NeuronModel model, float[] parameters, Tensor saved, SavedTensor? x, Tensor? initial,
            int steps, int rowLength, Shape stepShape, int initialAt, bool ownsSaved)
            : base(outputCount, inputs)
        {
            _ownsSaved = ownsSaved;
            _model = model;
            _parameters = parameters;
            _saved = saved;
            _x = x;
            _initial = initial;
            _steps = steps;
            _rowLength = rowLength;
            _stepShape = stepShape;
            _stateCount = model.StateNames.Count;
            _initialAt = initialAt;
        }

        public override string Name => $"neuron {_model.Name}";

        /// <summary>Runs the op: <paramref name="singleStep"/> treats <paramref name="x"/> as one step (no time axis).</summary>
        public static Variable Run(Variable x, NeuronModel model, IReadOnlyList<Variable> parameters, NeuronState? initial, bool singleStep, bool keepFinal, bool traces,
            out NeuronState? final, out NeuronTraces? recorded)
        {
            ArgumentNullException.ThrowIfNull(model);
            ArgumentNullException.ThrowIfNull(parameters);
            NeuronChecks.Input(x, singleStep ? 1 : 2, singleStep ? "a dense tensor with at least one axis" : "[T, ...]: time first, then at least one neuron axis", singleStep ? "x" : "xSeq");
            var values = NeuronChecks.ParameterValues(model, parameters);
            var stepShape = singleStep ? x.Shape : x.Shape.DropLeading();
            NeuronChecks.State(model, initial, stepShape);
            int steps = singleStep ? 1 : x.Shape[0];
            int rowLength = x.Shape.LastDimension;
            var inputs = new List<Variable>(1 + parameters.Count + model.StateNames.Count) { x };
            inputs.AddRange(parameters);
            int initialAt = inputs.Count;
            if (initial is not null) inputs.AddRange(initial.Variables);
            bool record = GradMode.IsEnabled && AnyRequiresGrad(inputs);
            int stateCount = model.StateNames.Count;
            int outputCount = 1 + (keepFinal ? stateCount : 0);

            Tensor output;
            SpikeTensor? spikes;
            Tensor? saved, finalState;
            bool readsInput;
            recorded = traces ? new NeuronTraces() : null;
            Tensor? initialState = initial is null ? null : Stack(initial, stepShape);
            try
            {
                if (x.Device.Kind != DeviceKind.Cpu)
                {
                    (spikes, saved) = DeviceForward(x, model, values, initial, keepFinal, record, steps, recorded);
                    output = null!;
                    finalState = null;
                    readsInput = false;
                }
                else
                {
                    var runner = new ForwardRunner(model, x.Dense, steps, rowLength, stepShape, record, recorded, initialState, keepFinal);
                    model.Dispatch(runner, values);
                    runner.ThrowIfNotRun();
                    (output, spikes, saved, finalState, readsInput) = (runner.Output!, runner.Spikes, runner.Saved, runner.Final, runner.ReadsInput);
                }
            }
            catch
            {
                initialState?.Dispose();
                recorded?.Dispose();
                throw;
            }

            NeuronNode? node = null;
            if (record)
            {
                var inputArray = inputs.ToArray();
                bool ownsSaved = recorded is null; // traces hold views of the saved values
                node = Record(() => new NeuronNode(inputArray, outputCount, model, values, saved!,
                    readsInput ? new SavedTensor(x.Dense, $"the input of the {model.Name} neuron") : null, initialState,
                    steps, rowLength, stepShape, initialAt, ownsSaved), inputArray);
            }
            else
            {
                saved?.Dispose();
                initialState?.Dispose();
            }
            var result = spikes is not null ? Variable.FromOp(spikes, node, 0) : Variable.FromOp(output, node, 0);
            final = null;
            if (keepFinal)
            {
                var state = new Variable[stateCount];
                for (int j = 0; j < stateCount; j++)
                {
                    using var slice = finalState![j];
                    state[j] = Variable.FromOp(slice.Reshape(stepShape), node, 1 + j);
                }
                finalState!.Dispose();
                final = new NeuronState(model.StateNames, state);
            }
            return result;
        }

        private static bool AnyRequiresGrad(List<Variable> inputs)
        {
            foreach (var v in inputs)
            {
                if (v.RequiresGrad) return true;
            }
            return false;
        }

        /// <summary>The initial state variables as one <c>[StateCount, perStep]</c> tensor, the layout the kernel reads.</summary>
        private static Tensor Stack(NeuronState initial, Shape stepShape)
        {
            int perStep = stepShape.ElementCount;
            var stacked = Tensor.Empty(new Shape(initial.Variables.Count, perStep));
            var span = stacked.AsSpan();
            for (int j = 0; j < initial.Variables.Count; j++) initial.Variables[j].Dense.AsReadOnlySpan().CopyTo(span.Slice(j * perStep, perStep));
            return stacked;
        }

        private static (SpikeTensor Spikes, Tensor? Saved) DeviceForward(Variable x, NeuronModel model, float[] values, NeuronState? initial, bool keepFinal, bool record,
            int steps, NeuronTraces? recorded)
        {
            var device = x.Device;
            var spec = model.DeviceKernel(values) ?? throw OpChecks.NoDeviceKernel($"The {model.Name} neuron{(model.Surrogate is { } s ? $" with surrogate {s}" : "")}", device);
            if (initial is not null || keepFinal)
            {
                throw OpChecks.NoDeviceKernel($"The {model.Name} neuron", device, "device kernels start from rest and keep no final state");
            }
            var shape = x.Shape;
            var spikes = SpikeTensor.Zeros(shape, device);
            var h = record || recorded is not null ? Tensor.Empty(shape, device) : null;
            var v = recorded is not null ? Tensor.Empty(shape, device) : null;
            x.Dense.Backend.NeuronForward(x.Dense, steps, spec, spikes, h, v);
            Tensor? saved = null;
            if (h is not null)
            {
                saved = h.Reshape(new Shape(1, shape.ElementCount));
                recorded?.Add(model.SavedNames[0], h.Reshape(shape));
                h.Dispose();
            }
            if (recorded is not null) recorded.Add(model.StateNames[0], v!);
            return (spikes, saved);
        }

        protected internal override void Backward(IReadOnlyList<Tensor?> gradOutputs, InputGradients gradients)
        {
            if (!_saved.IsOnHost)
            {
                DeviceBackward(gradOutputs[0]!, gradients);
                return;
            }
            int perStep = _stepShape.ElementCount;
            var gradX = GradientStorage(gradients.RetainsGraph);
            Tensor? gradFinal = null;
            for (int j = 0; j < OutputCount - 1; j++)
            {
                if (gradOutputs[1 + j] is not { } g) continue;
                gradFinal ??= Tensor.Zeros(new Shape(_stateCount, perStep));
                g.AsReadOnlySpan().CopyTo(gradFinal.AsSpan().Slice(j * perStep, perStep));
            }
            bool initialNeedsGrad = false;
            for (int j = 0; j < _stateCount && _initialAt + j < Inputs.Count; j++) initialNeedsGrad |= NeedsGrad(_initialAt + j);
            var gradInitial = initialNeedsGrad ? Tensor.Empty(new Shape(_stateCount, perStep)) : null;
            double[] sums;
            try
            {
                var runner = new BackwardRunner(_model, new NeuronBackwardBuffers
                {
                    Saved = _saved,
                    Steps = _steps,
                    RowLength = _rowLength,
                    X = _x?.Value,
                    Initial = _initial,
                    GradOutput = gradOutputs[0],
                    GradFinal = gradFinal,
                    GradX = gradX,
                    GradInitial = gradInitial,
                });
                _model.Dispatch(runner, _parameters);
                sums = runner.Sums ?? throw new InvalidOperationException($"{_model.Name}.Dispatch handed no dynamics to the backward.");
            }
            catch
            {
                gradX.Dispose();
                gradInitial?.Dispose();
                throw;
            }
            finally
            {
                gradFinal?.Dispose();
            }
            gradients.Add(0, gradX);
            int parameterCount = _initialAt - 1;
            if (parameterCount > 0)
            {
                Span<float> parameterGradients = stackalloc float[parameterCount];
                _model.ParameterGradients(sums, _parameters, parameterGradients);
                for (int p = 0; p < parameterCount; p++)
                {
                    if (NeedsGrad(1 + p)) gradients.Add(1 + p, Tensor.Full(Inputs[1 + p].Shape, parameterGradients[p]));
                }
            }
            if (gradInitial is not null)
            {
                for (int j = 0; j < _stateCount; j++)
                {
                    if (!NeedsGrad(_initialAt + j)) continue;
                    using var slice = gradInitial[j];
                    gradients.Add(_initialAt + j, slice.Reshape(_stepShape));
                }
                gradInitial.Dispose();
            }
        }

        /// <summary>
        /// Where the input's gradient goes: over the saved values themselves when they are one value per input element, the
        /// node's alone and not needed by another backward, else a new tensor. The backward through time reads the saved
        /// values of step t (and t − 1) before it writes the gradient of step t, and never reads step t again, so the
        /// gradient can take their place: a fused neuron's backward then needs no memory beyond what its forward kept
        /// (at T·B·n = 500·16·4096, 131 MB less at the peak).
        /// </summary>
        private Tensor GradientStorage(bool retainsGraph)
        {
            var shape = Inputs[0].Shape;
            if (!_ownsSaved || retainsGraph || _saved.Length != shape.ElementCount) return Tensor.Empty(shape);
            return _saved.Reshape(shape);
        }

        private void DeviceBackward(Tensor gradOutput, InputGradients gradients)
        {
            var spec = _model.DeviceKernel(_parameters)!.Value;
            var shape = Inputs[0].Shape;
            using var h = _saved.Reshape(shape);
            var gradX = Tensor.Empty(shape, _saved.Device);
            h.Backend.NeuronBackward(h, gradOutput, _steps, spec, gradX);
            gradients.Add(0, gradX);
        }

        protected internal override void DescribeSaved(SavedTensorSink saved)
        {
            saved.Add(_model.SavedNames.Count == 1 ? $"saved {_model.SavedNames[0]}" : $"saved {string.Join(", ", _model.SavedNames)}", _saved);
            saved.Add("input", _x);
            saved.Add("initial state", _initial);
        }

        protected internal override void ReleaseSaved()
        {
            _saved.Dispose();
            _x?.Release();
            _initial?.Dispose();
        }

        /// <summary>Allocates the forward's tensors for the dynamics' counts and runs the kernel.</summary>
        private sealed class ForwardRunner(NeuronModel model, Tensor x, int steps, int rowLength, Shape stepShape, bool record, NeuronTraces? traces,
            Tensor? initial, bool keepFinal) : INeuronDynamicsRunner
        {
            public Tensor? Output { get; private set; }

            public SpikeTensor? Spikes { get; private set; }

            public Tensor? Saved { get; private set; }

            public Tensor? Final { get; private set; }

            public bool ReadsInput { get; private set; }

            private bool _ran;

            public void Run<TDynamics>(in TDynamics dynamics) where TDynamics : struct, INeuronDynamics
            {
                NeuronChecks.Counts<TDynamics>(model);
                _ran = true;
                var shape = x.Shape;
                int perStep = stepShape.ElementCount;
                int savedCount = TDynamics.SavedCount, stateCount = TDynamics.StateCount;
                if (TDynamics.EmitsSpikes) Spikes = SpikeTensor.Zeros(shape);
                else Output = Tensor.Empty(shape);
                Saved = (record || traces is not null) && savedCount > 0 ? Tensor.Empty(new Shape(savedCount, steps * perStep)) : null;
                var stateTrace = traces is not null ? Tensor.Empty(new Shape(stateCount, steps * perStep)) : null;
                var internalSpikes = traces is not null && !TDynamics.EmitsSpikes && model.HasInternalSpikes ? SpikeTensor.Zeros(shape) : null;
                Final = keepFinal ? Tensor.Empty(new Shape(stateCount, perStep)) : null;
                NeuronKernel.Forward(dynamics, new NeuronForwardBuffers
                {
                    X = x,
                    Steps = steps,
                    RowLength = rowLength,
                    Spikes = Spikes,
                    Output = Output,
                    InternalSpikes = internalSpikes,
                    Saved = Saved,
                    StateTrace = stateTrace,
                    Initial = initial,
                    Final = Final,
                });
                ReadsInput = dynamics.BackwardReadsInput;
                if (traces is null) return;
                for (int j = 0; j < stateCount; j++)
                {
                    using var slice = stateTrace![j];
                    traces.Add(model.StateNames[j], slice.Reshape(shape));
                }
                stateTrace!.Dispose();
                for (int j = 0; j < savedCount; j++)
                {
                    using var slice = Saved![j];
                    traces.Add(model.SavedNames[j], slice.Reshape(shape));
                }
                if (internalSpikes is not null)
                {
                    traces.Add("spike", internalSpikes.ToTensor());
                    internalSpikes.Dispose();
                }
            }

            public void ThrowIfNotRun()
            {
                if (!_ran) throw new InvalidOperationException($"{model.Name}.Dispatch handed no dynamics to the runner; it must call runner.Run(new TheDynamics(...)).");
            }
        }

        /// <summary>Runs the kernel's backward for the dynamics, compiled for the model's surrogate.</summary>
        private sealed class BackwardRunner(NeuronModel model, NeuronBackwardBuffers buffers) : INeuronDynamicsRunner
        {
            public double[]? Sums { get; private set; }

            public void Run<TDynamics>(in TDynamics dynamics) where TDynamics : struct, INeuronDynamics =>
                Sums = model.Surrogate is { } surrogate
                    ? surrogate.Accept(new SurrogateBackward<TDynamics>(dynamics, buffers))
                    : NeuronKernel.Backward(dynamics, default(ZeroSurrogateFunction), buffers);
        }

        private sealed class SurrogateBackward<TDynamics>(TDynamics dynamics, NeuronBackwardBuffers buffers) : ISurrogateVisitor<double[]>
            where TDynamics : struct, INeuronDynamics
        {
            public double[] Visit<TFunction>(in TFunction function) where TFunction : struct, ISurrogateFunction =>
                NeuronKernel.Backward(dynamics, function, buffers);
        }
    }
}
