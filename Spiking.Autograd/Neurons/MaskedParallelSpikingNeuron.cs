using System;
using System.Globalization;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Autograd
{
    public static partial class Functional
    {
        /// <summary>
        /// SpikingJelly's <c>MaskedPSN</c> over <paramref name="xSeq"/> <c>[T, ...]</c>: the PSN of
        /// <see cref="ParallelSpikingNeuron(Variable, Variable, Variable, Surrogate)"/> with <c>W</c> replaced by
        /// <c>Wm = W ⊙ F</c>, where <c>M0[i][j] = 1</c> for <c>j ≤ i ≤ j + k − 1</c> (a band of width k on and below the
        /// diagonal) and 0 elsewhere, and <c>F = M0</c> when <c>λ ≥ 1</c>, else <c>λ·M0 + (1 − λ)</c>. The weight's
        /// gradient is that of <c>Wm</c> times <c>F</c>.
        /// </summary>
        /// <param name="xSeq">The input, <c>[T, ...]</c> with at least one axis after time; dense, on the CPU.</param>
        /// <param name="weight">The learnable <c>W</c>, <c>[T, T]</c>.</param>
        /// <param name="bias">The learnable <c>b</c>, <c>[T, 1]</c> or <c>[T]</c>.</param>
        /// <param name="k">The order: the width of the band (SpikingJelly's <c>k</c>, at least 1).</param>
        /// <param name="lambda">The masking progress <c>λ</c> (SpikingJelly's <c>lambda_</c>; 0 masks nothing, 1 and above the full band).</param>
        /// <param name="surrogate">The surrogate gradient of the spike function.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1 or <paramref name="lambda"/> is not finite.</exception>
        /// <exception cref="ArgumentException">The input holds spikes or has no axis after time, or a parameter's shape does not fit the input's T.</exception>
        /// <exception cref="NotSupportedException">An operand is on a device; the message names the op and the device.</exception>
        public static Variable MaskedParallelSpikingNeuron(Variable xSeq, Variable weight, Variable bias, int k, float lambda, Surrogate surrogate) =>
            ParallelSpikingNode.Run(xSeq, weight, bias, surrogate, new MaskedWeights(k, lambda), traces: false, out _);

        /// <summary>
        /// <see cref="MaskedParallelSpikingNeuron(Variable, Variable, Variable, int, float, Surrogate)"/> that also returns
        /// the traces <c>h</c> (<c>Wm·X + b</c> in the input's shape) and <c>masked_weight</c> (<c>Wm</c>); the caller owns them.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1 or <paramref name="lambda"/> is not finite.</exception>
        /// <exception cref="ArgumentException">The input holds spikes or has no axis after time, or a parameter's shape does not fit the input's T.</exception>
        /// <exception cref="NotSupportedException">An operand is on a device.</exception>
        public static Variable MaskedParallelSpikingNeuron(Variable xSeq, Variable weight, Variable bias, int k, float lambda, Surrogate surrogate, out NeuronTraces traces)
        {
            var output = ParallelSpikingNode.Run(xSeq, weight, bias, surrogate, new MaskedWeights(k, lambda), traces: true, out var recorded);
            traces = recorded!;
            return output;
        }
    }
}

namespace Spiking.Autograd.Neurons
{
    /// <summary>MaskedPSN's matrix <c>Wm = W ⊙ F</c> and its backward <c>dL/dW = dL/dWm ⊙ F</c>, with the one mask factor <see cref="Factor"/>.</summary>
    internal sealed class MaskedWeights : ParallelWeights
    {
        private readonly int _k;
        private readonly float _lambda;

        public MaskedWeights(int k, float lambda)
        {
            if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, $"MaskedPSN: the order k must be at least 1; got {k}.");
            if (!float.IsFinite(lambda))
            {
                throw new ArgumentOutOfRangeException(nameof(lambda), lambda, $"MaskedPSN: lambda must be a finite number; got {lambda.ToString(CultureInfo.InvariantCulture)}.");
            }
            _k = k;
            _lambda = lambda;
        }

        public override string Name => "MaskedPSN";

        public override string? MatrixTrace => "masked_weight";

        public override void CheckShapes(Shape weight, Shape bias, int steps)
        {
            CheckSquare(weight, steps);
            CheckStepBias(bias, steps);
        }

        public override void Build(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int steps, Span<float> matrix, Span<float> stepBias)
        {
            for (int i = 0; i < steps; i++)
            {
                for (int j = 0; j < steps; j++) matrix[i * steps + j] = Factor(i, j) * weight[i * steps + j];
            }
            bias.CopyTo(stepBias);
        }

        public override void WeightGradient(ReadOnlySpan<double> gradMatrix, int steps, Span<float> gradWeight)
        {
            for (int i = 0; i < steps; i++)
            {
                for (int j = 0; j < steps; j++) gradWeight[i * steps + j] = (float)(Factor(i, j) * gradMatrix[i * steps + j]);
            }
        }

        public override void BiasGradient(ReadOnlySpan<double> gradStepBias, Span<float> gradBias) => PerStep(gradStepBias, gradBias);

        /// <summary>
        /// <c>F[i][j]</c>: the band <c>M0</c> once λ reaches 1, else SpikingJelly's <c>λ·M0 + (1 − λ)·M1</c> (M1 all ones),
        /// evaluated in that order so that λ = 0 gives exactly 1.
        /// </summary>
        private float Factor(int i, int j)
        {
            float band = j <= i && i - j < _k ? 1f : 0f;
            return _lambda >= 1f ? band : _lambda * band + (1f - _lambda);
        }
    }
}
