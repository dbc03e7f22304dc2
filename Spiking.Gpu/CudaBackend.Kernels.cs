using System;
using Spiking.Tensors;
using Spiking.Tensors.Backends;

namespace Spiking.Gpu;

/// <summary>The kernels of <see cref="ComputeBackend"/>, each a launch of a kernel from <c>Kernels/*.cu</c>.</summary>
public sealed partial class CudaBackend
{
    /// <summary>Blocks of the first pass of <see cref="Sum"/>: fixed by the length alone, so the sum's order is too.</summary>
    private const int SumBlocks = 1024;

    /// <summary>The elements one block of the first pass of <see cref="Sum"/> takes before the grid is full.</summary>
    private const int SumElementsPerBlock = 4096;

    /// <inheritdoc/>
    public override void Fill(Tensor y, float value)
    {
        if (y.Length == 0) return;
        // cuMemsetD32 writes the float's bit pattern: the fill needs no kernel.
        ulong address = y.DeviceAddress;
        lock (_gate)
        {
            Ready();
            _driver.MemsetD32Async(address, BitConverter.SingleToUInt32Bits(value), y.Length, _stream);
        }
    }

    /// <inheritdoc/>
    public override void Add(Tensor a, Tensor b, Tensor y) => Binary("add", a, b, y);

    /// <inheritdoc/>
    public override void Multiply(Tensor a, Tensor b, Tensor y) => Binary("multiply", a, b, y);

    /// <inheritdoc/>
    public override void AddScaled(Tensor y, Tensor x, float alpha)
    {
        int n = y.Length;
        if (n == 0) return;
        var args = new KernelArguments();
        args.Add(y.DeviceAddress);
        args.Add(x.DeviceAddress);
        args.Add(alpha);
        args.Add(n);
        Launch("elementwise", "add_scaled", GridFor(n), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void Scale(Tensor x, float alpha, Tensor y)
    {
        int n = y.Length;
        if (n == 0) return;
        var args = new KernelArguments();
        args.Add(x.DeviceAddress);
        args.Add(alpha);
        args.Add(y.DeviceAddress);
        args.Add(n);
        Launch("elementwise", "scale", GridFor(n), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void AddRowVector(Tensor y, Tensor v)
    {
        int n = y.Length;
        if (n == 0 || v.Length == 0) return;
        var args = new KernelArguments();
        args.Add(y.DeviceAddress);
        args.Add(v.DeviceAddress);
        args.Add(n);
        args.Add(v.Length);
        Launch("elementwise", "add_row_vector", GridFor(n), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void SumRows(Tensor x, Tensor y)
    {
        int cols = y.Length;
        if (cols == 0) return;
        var args = new KernelArguments();
        args.Add(x.DeviceAddress);
        args.Add(y.DeviceAddress);
        args.Add(x.Length / cols);
        args.Add(cols);
        Launch("elementwise", "sum_rows", GridFor(cols), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void Sum(Tensor x, Tensor y)
    {
        int n = x.Length;
        if (n == 0)
        {
            Fill(y, 0f);
            return;
        }
        int blocks = (int)Math.Clamp((n + (long)SumElementsPerBlock - 1) / SumElementsPerBlock, 1, SumBlocks);
        ulong partial = Pool.Rent((long)blocks * sizeof(float), out long size);
        try
        {
            var first = new KernelArguments();
            first.Add(x.DeviceAddress);
            first.Add(partial);
            first.Add(n);
            Launch("elementwise", "sum_partial", (uint)blocks, 1, Threads, ref first);
            var second = new KernelArguments();
            second.Add(partial);
            second.Add(y.DeviceAddress);
            second.Add(blocks);
            Launch("elementwise", "sum_final", 1, 1, Threads, ref second);
        }
        finally
        {
            // Back to the pool now: the next owner's work is queued after the two passes on the same stream.
            Pool.Return(partial, size);
        }
    }

    /// <inheritdoc/>
    public override void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k)
    {
        if (m == 0 || n == 0) return;
        const int Tile = 64;
        var args = new KernelArguments();
        args.Add(a.DeviceAddress);
        args.Add(b.DeviceAddress);
        args.Add(c.DeviceAddress);
        args.Add(m);
        args.Add(n);
        args.Add(k);
        args.Add(transposeA ? 1 : 0);
        args.Add(transposeB ? 1 : 0);
        Launch("gemm", "gemm", (uint)((n + Tile - 1) / Tile), (uint)Math.Min((m + Tile - 1) / Tile, 65535), Threads, ref args);
    }

    /// <inheritdoc/>
    public override void PackGreaterOrEqual(Tensor x, float threshold, SpikeTensor spikes)
    {
        long words = (long)spikes.RowCount * spikes.WordsPerRow;
        if (words == 0) return;
        var args = new KernelArguments();
        args.Add(x.DeviceAddress);
        args.Add(threshold);
        args.Add(spikes.DeviceAddress);
        args.Add(spikes.RowCount);
        args.Add(spikes.RowLength);
        args.Add(spikes.WordsPerRow);
        Launch("spikes", "pack_ge", GridFor(words), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void Unpack(SpikeTensor spikes, Tensor y)
    {
        if (y.Length == 0) return;
        var args = new KernelArguments();
        args.Add(spikes.DeviceAddress);
        args.Add(y.DeviceAddress);
        args.Add(spikes.RowCount);
        args.Add(spikes.RowLength);
        args.Add(spikes.WordsPerRow);
        Launch("spikes", "unpack", GridFor(y.Length), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void SpikeLinear(SpikeTensor spikes, Tensor weight, Tensor? bias, Tensor y)
    {
        int rows = spikes.RowCount, inputs = spikes.RowLength, outputs = weight.Shape[0];
        if (rows == 0 || outputs == 0) return;
        // The weight transposed to [in, out], so the threads of one row read consecutive floats for each spike.
        ulong transposed = Pool.Rent((long)inputs * outputs * sizeof(float), out long size);
        try
        {
            if (inputs > 0)
            {
                var t = new KernelArguments();
                t.Add(weight.DeviceAddress);
                t.Add(transposed);
                t.Add(outputs);
                t.Add(inputs);
                Launch("spikes", "transpose", (uint)((inputs + 31) / 32), (uint)((outputs + 31) / 32), Threads, ref t);
            }
            var args = new KernelArguments();
            args.Add(spikes.DeviceAddress);
            args.Add(transposed);
            args.Add(bias is null ? 0UL : bias.DeviceAddress);
            args.Add(y.DeviceAddress);
            args.Add(rows);
            args.Add(inputs);
            args.Add(outputs);
            args.Add(spikes.WordsPerRow);
            const uint Block = 128;
            Launch("spikes", "spike_linear", (uint)rows, (uint)((outputs + Block - 1) / Block), Block, ref args);
        }
        finally
        {
            Pool.Return(transposed, size);
        }
    }

    /// <inheritdoc/>
    public override void SpikeWeightGradient(Tensor gradOutput, SpikeTensor spikes, Tensor gradWeight)
    {
        int rows = spikes.RowCount, inputs = spikes.RowLength, outputs = gradWeight.Shape[0];
        if (inputs == 0 || outputs == 0) return;
        var args = new KernelArguments();
        args.Add(gradOutput.DeviceAddress);
        args.Add(spikes.DeviceAddress);
        args.Add(gradWeight.DeviceAddress);
        args.Add(rows);
        args.Add(inputs);
        args.Add(outputs);
        args.Add(spikes.WordsPerRow);
        const uint Block = 128;
        Launch("spikes", "spike_weight_grad", (uint)((inputs + Block - 1) / Block), (uint)Math.Min(outputs, 65535), Block, ref args);
    }

    /// <inheritdoc/>
    public override void AndPopCount(SpikeTensor a, SpikeTensor b, Tensor c)
    {
        int rows = a.RowCount, cols = b.RowCount;
        if (rows == 0 || cols == 0) return;
        var args = new KernelArguments();
        args.Add(a.DeviceAddress);
        args.Add(b.DeviceAddress);
        args.Add(c.DeviceAddress);
        args.Add(rows);
        args.Add(cols);
        args.Add(a.WordsPerRow);
        const uint Block = 128;
        Launch("popcount", "and_popcount", (uint)((cols + Block - 1) / Block), (uint)Math.Min(rows, 65535), Block, ref args);
    }

    /// <inheritdoc/>
    public override void Bernoulli(Tensor probabilities, int repeats, uint key0, uint key1, ulong stream, ulong firstBlock, SpikeTensor spikes)
    {
        int n = probabilities.Length, rowLength = spikes.RowLength;
        long words = (long)spikes.RowCount * spikes.WordsPerRow;
        if (words == 0 || n == 0) return;
        if (n % rowLength != 0 || (long)n / rowLength * repeats != spikes.RowCount)
        {
            throw new ArgumentException(
                $"Spikes {spikes.Shape} are not {repeats} repeats of probabilities {probabilities.Shape}.", nameof(spikes));
        }
        var args = new KernelArguments();
        args.Add(probabilities.DeviceAddress);
        args.Add(spikes.DeviceAddress);
        args.Add(n);
        args.Add(rowLength);
        args.Add(spikes.WordsPerRow);
        args.Add(repeats);
        args.Add(key0);
        args.Add(key1);
        args.Add(stream);
        args.Add(firstBlock);
        Launch("philox", "bernoulli", GridFor(words), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void TransposeBatched(Tensor x, int batch, int rows, int cols, Tensor y)
    {
        long n = (long)batch * rows * cols;
        RequireLength(x, n, nameof(x), "TransposeBatched");
        RequireLength(y, n, nameof(y), "TransposeBatched");
        if (n == 0) return;
        var args = new KernelArguments();
        args.Add(x.DeviceAddress);
        args.Add(y.DeviceAddress);
        args.Add(batch);
        args.Add(rows);
        args.Add(cols);
        Launch("conv", "transpose_batched", GridFor(n), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void Im2Col(Tensor x, in SlidingWindow window, Tensor cols)
    {
        RequireLength(x, InputLength(window), nameof(x), "Im2Col");
        RequireLength(cols, (long)window.Patch * window.Images * window.Positions, nameof(cols), "Im2Col");
        if (cols.Length == 0) return;
        var args = new KernelArguments();
        args.Add(x.DeviceAddress);
        args.Add(cols.DeviceAddress);
        args.Add(window.Images);
        args.Add(window.Channels);
        AddWindow(ref args, window);
        Launch("conv", "im2col", GridFor(cols.Length), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void Col2Im(Tensor cols, in SlidingWindow window, Tensor x)
    {
        RequireLength(cols, (long)window.Patch * window.Images * window.Positions, nameof(cols), "Col2Im");
        RequireLength(x, InputLength(window), nameof(x), "Col2Im");
        if (x.Length == 0) return;
        var args = new KernelArguments();
        args.Add(cols.DeviceAddress);
        args.Add(x.DeviceAddress);
        args.Add(window.Images);
        args.Add(window.Channels);
        AddWindow(ref args, window);
        Launch("conv", "col2im", GridFor(x.Length), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void MaxPool(Tensor x, in SlidingWindow window, Tensor y)
    {
        RequireLength(x, InputLength(window), nameof(x), "MaxPool");
        RequireLength(y, OutputLength(window), nameof(y), "MaxPool");
        if (y.Length == 0) return;
        var args = new KernelArguments();
        args.Add(x.DeviceAddress);
        args.Add(y.DeviceAddress);
        args.Add(window.Images * window.Channels);
        AddWindow(ref args, window);
        Launch("pool", "max_pool", GridFor(y.Length), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void MaxPool(SpikeTensor x, in SlidingWindow window, SpikeTensor y)
    {
        RequireLength(x.Shape, InputLength(window), nameof(x), "MaxPool");
        RequireLength(y.Shape, OutputLength(window), nameof(y), "MaxPool");
        long words = (long)y.RowCount * y.WordsPerRow;
        if (words == 0) return;
        var args = new KernelArguments();
        args.Add(x.DeviceAddress);
        args.Add(y.DeviceAddress);
        args.Add(window.Images * window.Channels);
        AddWindow(ref args, window);
        args.Add(x.WordsPerRow);
        args.Add(y.WordsPerRow);
        Launch("pool", "max_pool_bits", GridFor(words), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void MaxPoolBackward(Tensor gradOutput, Tensor x, in SlidingWindow window, Tensor gradX)
    {
        RequireLength(gradOutput, OutputLength(window), nameof(gradOutput), "MaxPoolBackward");
        RequireLength(x, InputLength(window), nameof(x), "MaxPoolBackward");
        RequireLength(gradX, InputLength(window), nameof(gradX), "MaxPoolBackward");
        if (gradX.Length == 0) return;
        var args = new KernelArguments();
        args.Add(gradOutput.DeviceAddress);
        args.Add(x.DeviceAddress);
        args.Add(gradX.DeviceAddress);
        args.Add(window.Images * window.Channels);
        AddWindow(ref args, window);
        Launch("pool", "max_pool_backward", GridFor(gradX.Length), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void MaxPoolBackward(Tensor gradOutput, SpikeTensor x, in SlidingWindow window, Tensor gradX)
    {
        RequireLength(gradOutput, OutputLength(window), nameof(gradOutput), "MaxPoolBackward");
        RequireLength(x.Shape, InputLength(window), nameof(x), "MaxPoolBackward");
        RequireLength(gradX, InputLength(window), nameof(gradX), "MaxPoolBackward");
        if (gradX.Length == 0) return;
        var args = new KernelArguments();
        args.Add(gradOutput.DeviceAddress);
        args.Add(x.DeviceAddress);
        args.Add(gradX.DeviceAddress);
        args.Add(window.Images * window.Channels);
        AddWindow(ref args, window);
        args.Add(x.WordsPerRow);
        Launch("pool", "max_pool_backward_bits", GridFor(gradX.Length), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void BatchNormForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, in BatchNormSpec spec, Tensor y, Tensor statistics)
    {
        var (outer, channels, inner) = ChannelAxes(x);
        RequireChannels(channels, "BatchNormForward", (gamma, nameof(gamma)), (beta, nameof(beta)), (runningMean, nameof(runningMean)), (runningVar, nameof(runningVar)));
        RequireLength(y, x.Length, nameof(y), "BatchNormForward");
        RequireLength(statistics, 2L * channels, nameof(statistics), "BatchNormForward");
        if (channels == 0) return;
        var args = new KernelArguments();
        args.Add(x.DeviceAddress);
        args.Add(gamma.DeviceAddress);
        args.Add(beta.DeviceAddress);
        args.Add(runningMean.DeviceAddress);
        args.Add(runningVar.DeviceAddress);
        args.Add(y.DeviceAddress);
        args.Add(statistics.DeviceAddress);
        args.Add(outer);
        args.Add(channels);
        args.Add(inner);
        args.Add(spec.Training ? 1 : 0);
        args.Add(spec.Momentum);
        args.Add(spec.Eps);
        args.Add((double)outer * inner * spec.Replicas);
        // One block per channel: the block's threads share the channel's sums (BN_THREADS in batchnorm.cu).
        Launch("batchnorm", "batch_norm_forward", (uint)channels, 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void BatchNormBackward(Tensor x, Tensor gradOutput, Tensor gamma, Tensor statistics, bool training, Tensor? gradX, Tensor gradGamma, Tensor gradBeta)
    {
        var (outer, channels, inner) = ChannelAxes(x);
        RequireChannels(channels, "BatchNormBackward", (gamma, nameof(gamma)), (gradGamma, nameof(gradGamma)), (gradBeta, nameof(gradBeta)));
        RequireLength(gradOutput, x.Length, nameof(gradOutput), "BatchNormBackward");
        RequireLength(statistics, 2L * channels, nameof(statistics), "BatchNormBackward");
        if (gradX is not null) RequireLength(gradX, x.Length, nameof(gradX), "BatchNormBackward");
        if (channels == 0) return;
        var args = new KernelArguments();
        args.Add(x.DeviceAddress);
        args.Add(gradOutput.DeviceAddress);
        args.Add(gamma.DeviceAddress);
        args.Add(statistics.DeviceAddress);
        args.Add(gradX is null ? 0UL : gradX.DeviceAddress);
        args.Add(gradGamma.DeviceAddress);
        args.Add(gradBeta.DeviceAddress);
        args.Add(outer);
        args.Add(channels);
        args.Add(inner);
        args.Add(training ? 1 : 0);
        Launch("batchnorm", "batch_norm_backward", (uint)channels, 1, Threads, ref args);
    }

    /// <summary><c>[N, C, *]</c> as (N, C, the product of the trailing axes).</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> has rank below 2.</exception>
    private static (int Outer, int Channels, int Inner) ChannelAxes(Tensor x)
    {
        if (x.Rank < 2) throw new ArgumentException($"Batch norm needs 'x' of shape [N, C, *]; it has shape {x.Shape}.", nameof(x));
        return (x.Shape[0], x.Shape[1], x.Shape.ProductOfTrailing(2));
    }

    private static long InputLength(in SlidingWindow window) => (long)window.Images * window.Channels * window.Height * window.Width;

    private static long OutputLength(in SlidingWindow window) => (long)window.Images * window.Channels * window.Positions;

    // A kernel writes and reads by the window's arithmetic, so an operand of another size would be read or written
    // past its end: refused before the launch.
    private static void RequireLength(Tensor t, long expected, string name, string kernel) => RequireLength(t.Shape, expected, name, kernel);

    private static void RequireLength(Shape shape, long expected, string name, string kernel)
    {
        if (shape.ElementCount != expected)
        {
            throw new ArgumentException($"{kernel}: '{name}' has shape {shape} ({shape.ElementCount} elements); the operands need {expected}.", name);
        }
    }

    private static void RequireChannels(int channels, string kernel, params ReadOnlySpan<(Tensor Tensor, string Name)> perChannel)
    {
        foreach (var (tensor, name) in perChannel) RequireLength(tensor, channels, name, kernel);
    }

    /// <summary>The window's arguments in the order the conv and pool kernels take them after the batch size: H, W, kh, kw, stride, padding, Ho, Wo.</summary>
    private static void AddWindow(ref KernelArguments args, in SlidingWindow window)
    {
        args.Add(window.Height);
        args.Add(window.Width);
        args.Add(window.KernelHeight);
        args.Add(window.KernelWidth);
        args.Add(window.Stride);
        args.Add(window.Padding);
        args.Add(window.OutHeight);
        args.Add(window.OutWidth);
    }

    /// <inheritdoc/>
    public override void NeuronForward(Tensor x, int steps, in NeuronKernelSpec spec, SpikeTensor spikes, Tensor? hSeq, Tensor? vSeq)
    {
        if (x.Length == 0 || steps == 0) return;
        int perStep = x.Length / steps, rowLength = spikes.RowLength;
        // One thread per bit of every packed word of a step (padding bits included), in whole warps.
        long threads = (long)(perStep / rowLength) * spikes.WordsPerRow * 64;
        var args = new KernelArguments();
        args.Add(x.DeviceAddress);
        args.Add(spikes.DeviceAddress);
        args.Add(hSeq is null ? 0UL : hSeq.DeviceAddress);
        args.Add(vSeq is null ? 0UL : vSeq.DeviceAddress);
        args.Add(steps);
        args.Add(perStep);
        args.Add(rowLength);
        args.Add(spikes.WordsPerRow);
        args.Add((int)spec.Charge);
        args.Add(spec.HardReset ? 1 : 0);
        args.Add(spec.Threshold);
        args.Add(spec.VReset);
        args.Add(spec.K);
        Launch("neurons", "neuron_forward", (uint)((threads + Threads - 1) / Threads), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void NeuronBackward(Tensor hSeq, Tensor gradSpikes, int steps, in NeuronKernelSpec spec, Tensor gradX)
    {
        if (hSeq.Length == 0 || steps == 0) return;
        int perStep = hSeq.Length / steps;
        int reset = (spec.HardReset, spec.DetachReset) switch
        {
            (true, false) => 0,
            (true, true) => 1,
            (false, false) => 2,
            _ => 3,
        };
        // The surrogate's constants formed in double from α, as the CPU's ATan and Sigmoid form them.
        double alpha = spec.Alpha;
        var (a, b) = spec.Surrogate switch
        {
            SurrogateKind.ATan => ((float)(alpha / 2), (float)(Math.PI / 2 * alpha)),
            SurrogateKind.Sigmoid => ((float)alpha, 0f),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Surrogate, "The CUDA backend computes the ATan and Sigmoid surrogates."),
        };
        var args = new KernelArguments();
        args.Add(hSeq.DeviceAddress);
        args.Add(gradSpikes.DeviceAddress);
        args.Add(gradX.DeviceAddress);
        args.Add(steps);
        args.Add(perStep);
        args.Add(reset);
        args.Add(spec.Threshold);
        args.Add(spec.VReset);
        args.Add((int)spec.Surrogate);
        args.Add(a);
        args.Add(b);
        args.Add(spec.DhDx);
        args.Add(spec.DhDv);
        Launch("neurons", "neuron_backward", GridFor(perStep), 1, Threads, ref args);
    }

    /// <inheritdoc/>
    public override void AdamStep(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, in AdamStepSpec spec)
    {
        int n = parameter.Length;
        if (n == 0) return;
        var args = new KernelArguments();
        args.Add(parameter.DeviceAddress);
        args.Add(gradient.DeviceAddress);
        args.Add(firstMoment.DeviceAddress);
        args.Add(secondMoment.DeviceAddress);
        args.Add(n);
        args.Add(spec.NegativeStepSize);
        args.Add(spec.BiasCorrection2Sqrt);
        args.Add(spec.Epsilon);
        args.Add(spec.OneMinusBeta1);
        args.Add(spec.Beta2);
        args.Add(spec.OneMinusBeta2);
        args.Add(spec.L2WeightDecay);
        args.Add(spec.ShrinkFactor);
        args.Add(spec.LerpFromStart ? 1 : 0);
        Launch("optim", "adam", GridFor(n), 1, Threads, ref args);
    }

    private void Binary(string kernel, Tensor a, Tensor b, Tensor y)
    {
        int n = y.Length;
        if (n == 0) return;
        var args = new KernelArguments();
        args.Add(a.DeviceAddress);
        args.Add(b.DeviceAddress);
        args.Add(y.DeviceAddress);
        args.Add(n);
        Launch("elementwise", kernel, GridFor(n), 1, Threads, ref args);
    }
}
