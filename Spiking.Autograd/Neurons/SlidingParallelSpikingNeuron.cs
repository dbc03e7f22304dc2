using System;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;

namespace Spiking.Autograd
{
    public static partial class Functional
    {
        /// <summary>
        /// SpikingJelly's <c>SlidingPSN</c> over <paramref name="xSeq"/> <c>[T, ...]</c> (any T): k weights slid over time,
        /// <c>h_t = Σ_{i &lt; min(k, t+1)} w[k−1−i]·x_{t−i} + b</c>, <c>spike_t = heaviside(h_t)</c>. It runs as the PSN with
        /// the banded <c>[T, T]</c> matrix <c>G[i][j] = w[k−1−(i−j)]</c> for <c>0 ≤ i − j &lt; k</c> (0 elsewhere; SpikingJelly's
        /// <c>gen_gemm_weight</c>) and the bias <c>b</c> at every step; <c>dL/dw[k−1−d]</c> sums the gradient of G along
        /// diagonal d, and <c>dL/db</c> sums every step's. With k &gt; T, <c>w[0 .. k−T−1]</c> are unused and get 0.
        /// SpikingJelly's <c>gemm</c> and <c>conv</c> backends compute this same function.
        /// </summary>
        /// <param name="xSeq">The input, <c>[T, ...]</c> with at least one axis after time; dense, on the CPU.</param>
        /// <param name="weight">The learnable <c>w</c>, <c>[k]</c> with k ≥ 1 (the newest input's weight last).</param>
        /// <param name="bias">The learnable scalar <c>b</c> (shape <c>[]</c> or <c>[1]</c>).</param>
        /// <param name="surrogate">The surrogate gradient of the spike function.</param>
        /// <exception cref="ArgumentException">The input holds spikes or has no axis after time, or a parameter has the wrong shape.</exception>
        /// <exception cref="NotSupportedException">An operand is on a device; the message names the op and the device.</exception>
        public static Variable SlidingParallelSpikingNeuron(Variable xSeq, Variable weight, Variable bias, Surrogate surrogate) =>
            ParallelSpikingNode.Run(xSeq, weight, bias, surrogate, SlidingWeights.Instance, traces: false, out _);

        /// <summary>
        /// <see cref="SlidingParallelSpikingNeuron(Variable, Variable, Variable, Surrogate)"/> that also returns the traces
        /// <c>h</c> (in the input's shape) and <c>gemm_weight</c> (the <c>[T, T]</c> band); the caller owns them.
        /// </summary>
        /// <exception cref="ArgumentException">The input holds spikes or has no axis after time, or a parameter has the wrong shape.</exception>
        /// <exception cref="NotSupportedException">An operand is on a device.</exception>
        public static Variable SlidingParallelSpikingNeuron(Variable xSeq, Variable weight, Variable bias, Surrogate surrogate, out NeuronTraces traces)
        {
            var output = ParallelSpikingNode.Run(xSeq, weight, bias, surrogate, SlidingWeights.Instance, traces: true, out var recorded);
            traces = recorded!;
            return output;
        }
    }
}

namespace Spiking.Autograd.Neurons
{
    /// <summary>SlidingPSN's band <c>G[i][j] = w[k−1−(i−j)]</c> and its backward, a sum along each diagonal.</summary>
    internal sealed class SlidingWeights : ParallelWeights
    {
        public static SlidingWeights Instance { get; } = new();

        public override string Name => "SlidingPSN";

        public override string? MatrixTrace => "gemm_weight";

        public override void CheckShapes(Shape weight, Shape bias, int steps)
        {
            if (weight.Rank != 1 || weight[0] < 1)
            {
                throw new ArgumentException($"SlidingPSN: 'weight' must be [k] with k >= 1 (the order); got {weight}.", nameof(weight));
            }
            if (bias.ElementCount != 1 || bias.Rank > 1)
            {
                throw new ArgumentException($"SlidingPSN: 'bias' must be a scalar ([] or [1]); got {bias}.", nameof(bias));
            }
        }

        public override void Build(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int steps, Span<float> matrix, Span<float> stepBias)
        {
            int k = weight.Length;
            for (int i = 0; i < steps; i++)
            {
                for (int j = 0; j < steps; j++) matrix[i * steps + j] = i >= j && i - j < k ? weight[k - 1 - (i - j)] : 0f;
            }
            stepBias.Fill(bias[0]);
        }

        public override void WeightGradient(ReadOnlySpan<double> gradMatrix, int steps, Span<float> gradWeight)
        {
            int k = gradWeight.Length;
            gradWeight.Clear();
            for (int d = 0; d < Math.Min(k, steps); d++)
            {
                double sum = 0;
                for (int j = 0; j + d < steps; j++) sum += gradMatrix[(j + d) * steps + j];
                gradWeight[k - 1 - d] = (float)sum;
            }
        }

        public override void BiasGradient(ReadOnlySpan<double> gradStepBias, Span<float> gradBias)
        {
            double sum = 0;
            foreach (double g in gradStepBias) sum += g;
            gradBias[0] = (float)sum;
        }
    }
}
