using System;
using System.Linq;
using FsCheck;
using FsCheck.Fluent;
using Spiking.Autograd.Neurons;
using Spiking.Tensors;

using Spiking.Tests.Neurons;

namespace Spiking.Tests;

/// <summary>A text given by its Unicode scalar values, which may lie outside the BMP (two UTF-16 code units each).</summary>
public sealed record UnicodeTextCase(int[] CodePoints)
{
    public string Text => string.Concat(CodePoints.Select(c => new System.Text.Rune(c).ToString()));

    public override string ToString() => $"[{string.Join(", ", CodePoints.Select(c => $"U+{c:X4}"))}]";
}

/// <summary>A dense tensor to build: its dimensions and the seed of its normally distributed values.</summary>
public sealed record TensorCase(int[] Dims, int Seed)
{
    public Shape Shape => new(Dims);

    public float[] Values()
    {
        var rng = new Random(Seed);
        var v = new float[Shape.ElementCount];
        for (int i = 0; i < v.Length; i++) v[i] = (float)Reference.Normal(rng);
        return v;
    }

    public Tensor Create() => Tensor.FromSpan(Values(), Shape);

    public override string ToString() => $"TensorCase({Shape.Format(Dims)}, seed {Seed})";
}

/// <summary>A spike matrix to build: rows × cols bits, each set with probability <paramref name="Rate"/>.</summary>
public sealed record SpikeCase(int Rows, int Cols, double Rate, int Seed)
{
    public float[] Dense()
    {
        var rng = new Random(Seed);
        var v = new float[Rows * Cols];
        for (int i = 0; i < v.Length; i++) v[i] = rng.NextDouble() < Rate ? 1f : 0f;
        return v;
    }

    public SpikeTensor Create()
    {
        using var dense = Tensor.FromArray(Dense(), Rows, Cols);
        return SpikeTensor.FromBinary(dense);
    }
}

/// <summary>A matrix product problem: <c>[M, K] x [K, N]</c>, with a spike rate for spike operands.</summary>
public sealed record ProductCase(int M, int K, int N, double Rate, int Seed)
{
    public SpikeCase Spikes(int rows, int cols) => new(rows, cols, Rate, Seed);

    public float[] Normal(int count, int salt)
    {
        var rng = new Random(Seed * 7919 + salt);
        var v = new float[count];
        for (int i = 0; i < v.Length; i++) v[i] = (float)Reference.Normal(rng);
        return v;
    }
}

/// <summary>
/// A quantized product <c>x[M, K]·q[N, K]ᵀ</c>: <paramref name="Bits"/>-bit codes, unsigned 8-bit counts up to
/// <paramref name="MaxCount"/> (non-zero with probability <paramref name="Rate"/>), binary spikes at the same rate,
/// per-output scales of both signs and varied magnitudes, and a bias.
/// </summary>
public sealed record QuantizedCase(int M, int K, int N, int Bits, int MaxCount, double Rate, int Seed)
{
    private Random Rng(int salt) => new(Seed * 7919 + salt);

    /// <summary>Codes <c>[N, K]</c> over the whole range of the bit width.</summary>
    public sbyte[] Codes()
    {
        var rng = Rng(1);
        int lo = -(1 << (Bits - 1)), hi = (1 << (Bits - 1)) - 1;
        var q = new sbyte[N * K];
        for (int i = 0; i < q.Length; i++) q[i] = (sbyte)rng.Next(lo, hi + 1);
        return q;
    }

    public byte[] Counts()
    {
        var rng = Rng(2);
        var x = new byte[M * K];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() < Rate ? (byte)rng.Next(1, MaxCount + 1) : (byte)0;
        return x;
    }

    /// <summary>Spike rows packed as SpikeTensor rows; when <paramref name="strayPadding"/>, the bits past K are set too.</summary>
    public ulong[] Spikes(bool strayPadding = false)
    {
        var words = Reference.Pack(new SpikeCase(M, K, Rate, Seed).Dense(), M, K);
        int wpr = (K + 63) / 64;
        if (strayPadding && K % 64 != 0)
        {
            for (int r = 0; r < M; r++) words[r * wpr + wpr - 1] |= ~((1UL << (K % 64)) - 1);
        }
        return words;
    }

    /// <summary>Scales of either sign, magnitudes from 2⁻¹² to 2⁴, none subnormal.</summary>
    public float[] Scales()
    {
        var rng = Rng(3);
        var s = new float[N];
        for (int i = 0; i < s.Length; i++) s[i] = (float)((rng.Next(2) == 0 ? -1 : 1) * Math.Pow(2, rng.NextDouble() * 16 - 12));
        return s;
    }

    public float[] Bias()
    {
        var rng = Rng(4);
        var b = new float[N];
        for (int i = 0; i < b.Length; i++) b[i] = (float)Reference.Normal(rng);
        return b;
    }
}

/// <summary>
/// A quantized convolution: <paramref name="Images"/> NCHW count images <c>[C, H, W]</c>, <paramref name="OutChannels"/>
/// filters of <c>kh×kw</c> (a depthwise one uses C filters), stride, padding, code width and largest count.
/// </summary>
public sealed record QuantizedConvCase(int Images, int Channels, int Height, int Width, int OutChannels, int KernelHeight, int KernelWidth,
    int Stride, int Padding, int Bits, int MaxCount, int Seed)
{
    public Spiking.Tensors.Backends.SlidingWindow Window => new(Images, Channels, Height, Width, KernelHeight, KernelWidth, Stride, Padding);

    public sbyte[] Codes(int outChannels, int patch) => new QuantizedCase(1, patch, outChannels, Bits, MaxCount, 0.4, Seed).Codes();

    public byte[] Counts() => new QuantizedCase(Images * Channels * Height, Width, 1, Bits, MaxCount, 0.4, Seed).Counts();

    public float[] Scales(int outChannels) => new QuantizedCase(1, 1, outChannels, Bits, MaxCount, 0.4, Seed).Scales();

    public float[] Bias(int outChannels) => new QuantizedCase(1, 1, outChannels, Bits, MaxCount, 0.4, Seed).Bias();
}

/// <summary>A binary <c>Q·Kᵀ</c> problem: spike matrices <c>[M, D]</c> and <c>[N, D]</c> at one firing rate.</summary>
public sealed record PopcountCase(int M, int N, int D, double Rate, int Seed)
{
    public SpikeCase Left => new(M, D, Rate, Seed);

    public SpikeCase Right => new(N, D, Rate, Seed + 1);
}

/// <summary>A spike train <c>[T, B, N]</c>: T steps of B rows of N bits, each set with probability <paramref name="Rate"/>.</summary>
public sealed record SpikeTrainCase(int T, int B, int N, double Rate, int Seed)
{
    public int[] Dims => [T, B, N];

    /// <summary>The spikes as 0/1 floats, row-major <c>[T, B, N]</c>.</summary>
    public float[] Dense() => new SpikeCase(T * B, N, Rate, Seed).Dense();

    public SpikeTensor Create()
    {
        using var dense = Tensor.FromSpan(Dense(), new Shape(T, B, N));
        return SpikeTensor.FromBinary(dense);
    }

    public override string ToString() => $"SpikeTrainCase([{T}, {B}, {N}], rate {Rate}, seed {Seed})";
}

/// <summary>
/// A character-level sequence problem: token ids <c>[B, T]</c> drawn from a vocabulary of <paramref name="V"/> (small
/// vocabularies repeat tokens), activations <c>[B, T, C]</c> and per-channel values, all from <paramref name="Seed"/>.
/// </summary>
public sealed record SequenceCase(int B, int T, int C, int V, int Seed)
{
    public int[] Tokens()
    {
        var rng = new Random(Seed);
        var tokens = new int[B * T];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = rng.Next(V);
        return tokens;
    }

    /// <summary>Normal values of the given dimensions; <paramref name="salt"/> keeps the operands of one case apart.</summary>
    public float[] Normal(int salt, params int[] dims) => new TensorCase(dims, Seed * 31 + salt).Values();

    public override string ToString() => $"SequenceCase(B {B}, T {T}, C {C}, V {V}, seed {Seed})";
}

/// <summary>A run of Philox words to draw: key, stream, first block and number of words.</summary>
public sealed record PhiloxCase(ulong Seed, ulong Stream, ulong FirstBlock, int Length);

/// <summary>
/// Two operand shapes that broadcast together under NumPy rules (either may have fewer axes, and any axis may
/// be 1 on one side), with the seed of their normally distributed values.
/// </summary>
public sealed record BroadcastCase(int[] Left, int[] Right, int Seed)
{
    public TensorCase LeftCase => new(Left, Seed);

    public TensorCase RightCase => new(Right, Seed + 1);

    public override string ToString() => $"BroadcastCase({Shape.Format(Left)} with {Shape.Format(Right)}, seed {Seed})";
}

/// <summary>
/// A <c>[Rows, Cols]</c> matrix of normal values compared against <paramref name="Threshold"/>, salted with values
/// exactly equal to the threshold, NaNs, infinities and signed zeros.
/// </summary>
public sealed record ThresholdCase(int Rows, int Cols, float Threshold, int Seed)
{
    public float[] Values()
    {
        var rng = new Random(Seed);
        var v = new float[Rows * Cols];
        for (int i = 0; i < v.Length; i++)
        {
            double u = rng.NextDouble();
            v[i] = u switch
            {
                < 0.10 => Threshold,
                < 0.15 => float.NaN,
                < 0.16 => float.PositiveInfinity,
                < 0.17 => float.NegativeInfinity,
                < 0.18 => -0f,
                < 0.19 => 0f,
                < 0.21 => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(Threshold) - 1),
                _ => (float)Reference.Normal(rng),
            };
        }
        return v;
    }

    public override string ToString() => $"ThresholdCase([{Rows}, {Cols}], threshold {Threshold}, seed {Seed})";
}

/// <summary>A bit matrix of <c>Rows x Cols</c> (either may be 0 or span several 64-bit words) set with probability <paramref name="Rate"/>.</summary>
public sealed record BitMatrixCase(int Rows, int Cols, double Rate, int Seed)
{
    public bool[] Bits()
    {
        var rng = new Random(Seed);
        var b = new bool[Rows * Cols];
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextDouble() < Rate;
        return b;
    }
}

/// <summary>
/// A multi-step neuron problem: input dimensions <c>[T, ...]</c>, the model and its settings, the surrogate by
/// SpikingJelly name, the parametric LIF's <c>w</c>, and the seed of the input current and upstream gradient. The
/// input is nudged so every pre-reset potential stays 1e-3 away from the threshold.
/// </summary>
public sealed record NeuronCase(int[] Dims, LifKind Model, bool DecayInput, bool Hard, bool Detach, string Surrogate,
    float Threshold, float Reset, double Tau, double W, int Seed)
{
    public Shape Shape => new(Dims);

    public int Steps => Dims[0];

    public ThresholdNeuron Options() =>
        TestNeurons.Of(Model, Tau, DecayInput, Threshold, Hard ? Reset : null, Detach, global::Spiking.Autograd.Surrogates.Surrogate.Create(Surrogate));

    /// <summary>The input current (about a third of the neurons fire per step) and the upstream gradient.</summary>
    public (float[] X, float[] G) Inputs()
    {
        var rng = new Random(Seed);
        int n = Shape.ElementCount;
        var x = new float[n];
        var g = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(0.45 * Threshold + 0.6 * Reference.Normal(rng));
        for (int i = 0; i < n; i++) g[i] = (float)Reference.Normal(rng);
        Neurons.NeuronReference.EnsureMargin(Options(), W, x, Steps);
        return (x, g);
    }

    public override string ToString() =>
        $"NeuronCase({Shape.Format(Dims)}, {Model}, decay_input {DecayInput}, {(Hard ? $"hard {Reset}" : "soft")}, detach {Detach}, {Surrogate}, θ {Threshold}, tau {Tau}, w {W}, seed {Seed})";
}

/// <summary>A KLIF problem: shape <c>[T, …]</c>, the settings, the learnable k, and the seed of the input and upstream gradient.</summary>
public sealed record KlifCase(int[] Dims, bool DecayInput, bool Hard, bool Detach, bool ScaleReset, string Surrogate, float Threshold, float Reset, double Tau, float K, int Seed)
{
    public Shape Shape => new(Dims);

    public int Steps => Dims[0];

    public KlifNeuron Model() => new()
    {
        Tau = Tau, DecayInput = DecayInput, ScaleReset = ScaleReset, VThreshold = Threshold, VReset = Hard ? Reset : null, DetachReset = Detach,
        Surrogate = global::Spiking.Autograd.Surrogates.Surrogate.Create(Surrogate),
    };

    /// <summary>The input current (h about a third above θ/k per step) and the upstream gradient, every value at least 1e-3 from a boundary.</summary>
    public (float[] X, float[] G) Inputs()
    {
        var rng = new Random(Seed);
        int n = Shape.ElementCount;
        var x = new float[n];
        var g = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((0.45 * Threshold + 0.6 * Reference.Normal(rng)) / K);
        for (int i = 0; i < n; i++) g[i] = (float)Reference.Normal(rng);
        var model = Model();
        ModelHarness.EnsureMargin(v => KlifReference.Run(model, K, v, g, Steps).Distance, x, Steps);
        return (x, g);
    }

    public override string ToString() =>
        $"KlifCase({Shape.Format(Dims)}, decay_input {DecayInput}, {(Hard ? $"hard {Reset}" : "soft")}, detach {Detach}, scale_reset {ScaleReset}, {Surrogate}, θ {Threshold}, tau {Tau}, k {K}, seed {Seed})";
}

/// <summary>A LIAF problem: shape <c>[T, …]</c>, the settings, and the seed of the input and upstream gradient.</summary>
public sealed record LiafCase(int[] Dims, LiafActivation Act, bool ThresholdRelated, bool DecayInput, bool Hard, bool Detach, string Surrogate, float Threshold, float Reset,
    double Tau, int Seed)
{
    public Shape Shape => new(Dims);

    public int Steps => Dims[0];

    public LiafNeuron Model() => new()
    {
        Act = Act, ThresholdRelated = ThresholdRelated, Tau = Tau, DecayInput = DecayInput, VThreshold = Threshold, VReset = Hard ? Reset : null, DetachReset = Detach,
        Surrogate = global::Spiking.Autograd.Surrogates.Surrogate.Create(Surrogate),
    };

    /// <summary>The input current and the upstream gradient, every value at least 1e-3 from a boundary.</summary>
    public (float[] X, float[] G) Inputs()
    {
        var rng = new Random(Seed);
        int n = Shape.ElementCount;
        var x = new float[n];
        var g = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(0.45 * Threshold + 0.6 * Reference.Normal(rng));
        for (int i = 0; i < n; i++) g[i] = (float)Reference.Normal(rng);
        var model = Model();
        ModelHarness.EnsureMargin(v => LiafReference.Run(model, v, g, Steps).Distance, x, Steps);
        return (x, g);
    }

    public override string ToString() =>
        $"LiafCase({Shape.Format(Dims)}, {Act}, threshold_related {ThresholdRelated}, decay_input {DecayInput}, {(Hard ? $"hard {Reset}" : "soft")}, detach {Detach}, {Surrogate}, θ {Threshold}, tau {Tau}, seed {Seed})";
}

/// <summary>An ILIF problem: shape <c>[T, …]</c>, the settings (<paramref name="Window"/> null or [min, max]), and the seed.</summary>
public sealed record IlifCase(int[] Dims, double Tau, float Threshold, int MaxCount, double[]? Window, bool Detach, int Seed)
{
    public Shape Shape => new(Dims);

    public int Steps => Dims[0];

    public IlifNeuron Model() => new()
    {
        Tau = Tau, VThreshold = Threshold, MaxSpikeCount = MaxCount, GradWindow = Window is null ? null : (Window[0], Window[1]), DetachReset = Detach,
    };

    /// <summary>The input current (counts over 0..D, clamped at both ends) and the upstream gradient, every value at least 1e-3 from a boundary.</summary>
    public (float[] X, float[] G) Inputs()
    {
        var rng = new Random(Seed);
        int n = Shape.ElementCount;
        var x = new float[n];
        var g = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(Threshold * (0.3 * MaxCount + 0.45 * MaxCount * Reference.Normal(rng)));
        for (int i = 0; i < n; i++) g[i] = (float)Reference.Normal(rng);
        var model = Model();
        ModelHarness.EnsureMargin(v => IlifReference.Run(model, v, g, Steps).Distance, x, Steps);
        return (x, g);
    }

    public override string ToString() =>
        $"IlifCase({Shape.Format(Dims)}, tau {Tau}, θ {Threshold}, D {MaxCount}, window {(Window is null ? "null" : $"[{Window[0]}, {Window[1]}]")}, detach {Detach}, seed {Seed})";
}

/// <summary>
/// A problem for a model of <see cref="RecurrentModels"/>: shape <c>[T, …]</c>, the kind and its settings variant,
/// hard or soft reset, detach, surrogate, threshold and reset potential, and the seed of the input current and the
/// upstream gradient.
/// </summary>
public sealed record RecurrentNeuronCase(int[] Dims, RecurrentKind Kind, int Variant, bool Hard, bool Detach, string Surrogate, float Threshold, float Reset, int Seed)
{
    public Shape Shape => new(Dims);

    public int Steps => Dims[0];

    public ThresholdNeuron Model() =>
        RecurrentModels.Of(Kind, Variant, Threshold, Hard ? Reset : null, Detach, global::Spiking.Autograd.Surrogates.Surrogate.Create(Surrogate));

    /// <summary>The input current (about a third of the neurons fire per step), nudged clear of the thresholds, and the upstream gradient.</summary>
    public (float[] X, float[] G) Inputs()
    {
        var rng = new Random(Seed);
        int n = Shape.ElementCount;
        var (mean, spread) = RecurrentModels.Drive(Kind);
        var x = new float[n];
        var g = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(Threshold * (mean + spread * Reference.Normal(rng)));
        for (int i = 0; i < n; i++) g[i] = (float)Reference.Normal(rng);
        RecurrentReference.EnsureMargin(Model(), x, Steps);
        return (x, g);
    }

    public override string ToString() =>
        $"RecurrentNeuronCase({Shape.Format(Dims)}, {Kind} #{Variant}, {(Hard ? $"hard {Reset}" : "soft")}, detach {Detach}, {Surrogate}, θ {Threshold}, seed {Seed})";
}

/// <summary>
/// A tensor of rank 1 to 4 to slice: an axis (negative about half the time), a range <c>[Start, Start + Length)</c>
/// along it, normal values for the dense form and bits at <paramref name="Rate"/> for the spike form.
/// </summary>
public sealed record SliceCase(int[] Dims, int Axis, int Start, int Length, double Rate, int Seed)
{
    public Shape Shape => new(Dims);

    /// <summary>The axis in <c>[0, rank)</c>.</summary>
    public int NormalAxis => Axis < 0 ? Axis + Dims.Length : Axis;

    /// <summary>A valid index along the axis for Select: <see cref="Start"/> pulled inside it.</summary>
    public int Index => Math.Min(Start, Dims[NormalAxis] - 1);

    public float[] Values() => new TensorCase(Dims, Seed).Values();

    public float[] Bits() => SpikeValues.Draw(Shape.ElementCount, Rate, Seed + 1);

    public Tensor Dense() => Tensor.FromSpan(Values(), Shape);

    public SpikeTensor Spikes() => SpikeValues.Pack(Bits(), Dims);

    public override string ToString() => $"SliceCase({Shape.Format(Dims)}, axis {Axis}, [{Start}, {Start + Length}), rate {Rate}, seed {Seed})";
}

/// <summary>
/// Inputs to join: <c>Sizes.Length</c> of them. For Concat input i has <see cref="Dims"/> with axis
/// <see cref="Axis"/> set to <c>Sizes[i]</c> (0 included); for Stack every input has <see cref="Dims"/> and the new
/// axis is <see cref="StackAxis"/>. Each input draws its own normal values and bits.
/// </summary>
public sealed record JoinCase(int[] Dims, int Axis, int StackAxis, int[] Sizes, double Rate, int Seed)
{
    public int Count => Sizes.Length;

    /// <summary>The dimensions of Concat's input <paramref name="i"/>.</summary>
    public int[] PieceDims(int i)
    {
        var d = (int[])Dims.Clone();
        d[Axis < 0 ? Axis + Dims.Length : Axis] = Sizes[i];
        return d;
    }

    public float[] Values(int[] dims, int i) => new TensorCase(dims, Seed + 17 * i).Values();

    public float[] Bits(int[] dims, int i) => SpikeValues.Draw(Reference.Count(dims), Rate, Seed + 17 * i + 1);

    public override string ToString() =>
        $"JoinCase({Shape.Format(Dims)} x {Count}, concat axis {Axis} sizes {Shape.Format(Sizes)}, stack axis {StackAxis}, rate {Rate}, seed {Seed})";
}

/// <summary>
/// Operands of a where: a condition (bits at <paramref name="Rate"/>, rank 1 or more) and two dense operands, all
/// broadcasting together under NumPy rules.
/// </summary>
public sealed record WhereCase(int[] Condition, int[] A, int[] B, double Rate, int Seed)
{
    public float[] Bits() => SpikeValues.Draw(Reference.Count(Condition), Rate, Seed);

    public TensorCase ACase => new(A, Seed + 1);

    public TensorCase BCase => new(B, Seed + 2);

    public override string ToString() =>
        $"WhereCase(condition {Shape.Format(Condition)}, a {Shape.Format(A)}, b {Shape.Format(B)}, rate {Rate}, seed {Seed})";
}

/// <summary>
/// Two operand shapes of rank 1 or more that broadcast together, each available as normal values or as bits at
/// <paramref name="Rate"/>, for arithmetic with spike operands.
/// </summary>
public sealed record SpikeBroadcastCase(int[] Left, int[] Right, double Rate, int Seed)
{
    public TensorCase LeftCase => new(Left, Seed);

    public TensorCase RightCase => new(Right, Seed + 1);

    public float[] LeftBits() => SpikeValues.Draw(Reference.Count(Left), Rate, Seed + 2);

    public float[] RightBits() => SpikeValues.Draw(Reference.Count(Right), Rate * 0.5 + 0.25, Seed + 3);

    public override string ToString() => $"SpikeBroadcastCase({Shape.Format(Left)} with {Shape.Format(Right)}, rate {Rate}, seed {Seed})";
}

/// <summary>0/1 values for spike operands and their packing.</summary>
public static class SpikeValues
{
    /// <summary><paramref name="count"/> values, each 1 with probability <paramref name="rate"/> and 0 otherwise.</summary>
    public static float[] Draw(int count, double rate, int seed) => new SpikeCase(1, count, rate, seed).Dense();

    /// <summary>The 0/1 values packed as spikes of dimensions <paramref name="dims"/> (rank 1 or more).</summary>
    public static SpikeTensor Pack(float[] bits, int[] dims)
    {
        using var dense = Tensor.FromSpan(bits, new Shape(dims));
        return SpikeTensor.FromBinary(dense);
    }
}

/// <summary>
/// The FsCheck generators every property reuses: shapes, dense tensors, spike matrices at a given firing rate
/// (including 0 and 1), and matrix-product problems whose inner dimension is often not a multiple of 64.
/// </summary>
public static class Generators
{
    /// <summary>Firing rates that cover the edges (0, 1) and the working range of SNNs.</summary>
    public static Gen<double> Rate() => Gen.Elements(0.0, 0.02, 0.1, 0.3, 0.5, 0.9, 1.0);

    /// <summary>A dimension in [1, max], biased towards the edges around word and vector widths.</summary>
    public static Gen<int> Dim(int max) =>
        Gen.OneOf(Gen.Choose(1, max), Gen.Elements(1, 7, 8, 63, 64, 65, 127, 128, 129).Where(d => d <= max));

    public static Gen<int[]> Dims(int maxRank, int maxDim) =>
        from rank in Gen.Choose(1, maxRank)
        from dims in Gen.ArrayOf(Dim(maxDim), rank)
        select dims;

    /// <summary>Sequences of up to 6 rows of 40 steps and 130 channels, over vocabularies from 1 to 70 tokens.</summary>
    public static Arbitrary<SequenceCase> SequenceCases() =>
        (from b in Gen.Choose(1, 6)
         from t in Gen.Choose(1, 40)
         from c in Dim(130)
         from v in Gen.OneOf(Gen.Choose(1, 5), Gen.Choose(6, 70))
         from seed in Gen.Choose(0, 1_000_000)
         select new SequenceCase(b, t, c, v, seed)).ToArbitrary();

    public static Arbitrary<TensorCase> TensorCases() =>
        (from dims in Dims(4, 40)
         from seed in Gen.Choose(0, 1_000_000)
         select new TensorCase(dims, seed)).ToArbitrary();

    public static Arbitrary<SpikeCase> SpikeCases() =>
        (from rows in Dim(40)
         from cols in Dim(200)
         from rate in Rate()
         from seed in Gen.Choose(0, 1_000_000)
         select new SpikeCase(rows, cols, rate, seed)).ToArbitrary();

    /// <summary>Popcount problems whose row length spans one to about ten words, often not a multiple of 64.</summary>
    public static Arbitrary<PopcountCase> PopcountCases() =>
        (from m in Dim(40)
         from n in Dim(40)
         from d in Gen.OneOf(Dim(200), Gen.Choose(200, 700))
         from rate in Rate()
         from seed in Gen.Choose(0, 1_000_000)
         select new PopcountCase(m, n, d, rate, seed)).ToArbitrary();

    /// <summary>Any 64-bit value, often one just below a carry out of the low or high 32-bit word.</summary>
    public static Gen<ulong> Word64() =>
        Gen.OneOf(
            from hi in Gen.Choose(int.MinValue, int.MaxValue)
            from lo in Gen.Choose(int.MinValue, int.MaxValue)
            select (ulong)(uint)hi << 32 | (uint)lo,
            from back in Gen.Choose(1, 40)
            from top in Gen.Elements(0x1_0000_0000UL, 0UL)
            select top - (ulong)back);

    /// <summary>
    /// Texts of 1 to 60 characters drawn from ASCII (line feed included), the rest of the BMP below and above the
    /// surrogates, and the supplementary planes up to U+10FFFF, so ids of one text mix one- and two-unit characters.
    /// </summary>
    public static Arbitrary<UnicodeTextCase> UnicodeTexts()
    {
        var character = Gen.OneOf(
            Gen.Choose(0x20, 0x7E),
            Gen.Elements(0x0A, 0x00, 0x7F, 0xFEFF, 0xFFFD, 0xD7FF, 0xE000, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF),
            Gen.Choose(0x80, 0xD7FF),
            Gen.Choose(0xE000, 0xFFFF),
            Gen.Choose(0x10000, 0x10FFFF));
        return (from length in Gen.Choose(1, 60)
                from codePoints in Gen.ArrayOf(character, length)
                select new UnicodeTextCase(codePoints)).ToArbitrary();
    }

    /// <summary>Philox runs of 0–300 words, lengths not multiples of the 32-word vector group included.</summary>
    public static Arbitrary<PhiloxCase> PhiloxCases() =>
        (from seed in Word64()
         from stream in Word64()
         from block in Word64()
         from length in Gen.OneOf(Gen.Choose(0, 300), Gen.Elements(31, 32, 33, 63, 64, 65, 96))
         select new PhiloxCase(seed, stream, block, length)).ToArbitrary();

    /// <summary>
    /// Neuron problems: T from 1 to 8, one to three neuron axes whose last one is often not a multiple of 64 (so rows
    /// end inside words and vectors), every model, reset and surrogate.
    /// </summary>
    public static Arbitrary<NeuronCase> NeuronCases() =>
        (from steps in Gen.Choose(1, 8)
         from rank in Gen.Choose(1, 3)
         from inner in Gen.ArrayOf(Dim(70), rank)
         from model in Gen.Elements(LifKind.IntegrateAndFire, LifKind.LeakyIntegrateAndFire, LifKind.ParametricLeakyIntegrateAndFire)
         from decay in Gen.Elements(true, false)
         from hard in Gen.Elements(true, false)
         from detach in Gen.Elements(true, false)
         from surrogate in Gen.Elements("Sigmoid", "ATan", "PiecewiseQuadratic", "SoftSign", "Erf", "PiecewiseLeakyReLU", "Rect")
         from threshold in Gen.Elements(1f, 0.5f, 2f)
         from reset in Gen.Elements(0f, -0.25f)
         from tau in Gen.Elements(2.0, 1.5, 10.0)
         from w in Gen.Elements(0.0, -1.0, 1.5)
         from seed in Gen.Choose(0, 1_000_000)
         select new NeuronCase([steps, .. inner], model, decay, hard, detach, surrogate, threshold, reset, tau, w, seed)).ToArbitrary();

    public static Arbitrary<KlifCase> KlifCases() =>
        (from steps in Gen.Choose(1, 8)
         from rank in Gen.Choose(1, 3)
         from inner in Gen.ArrayOf(Dim(70), rank)
         from decay in Gen.Elements(true, false)
         from hard in Gen.Elements(true, false)
         from detach in Gen.Elements(true, false)
         from scale in Gen.Elements(true, false)
         from surrogate in Gen.Elements("Sigmoid", "ATan", "PiecewiseQuadratic", "SoftSign", "Erf", "PiecewiseLeakyReLU", "Rect")
         from threshold in Gen.Elements(1f, 0.5f, 2f)
         from reset in Gen.Elements(0f, -0.25f)
         from tau in Gen.Elements(2.0, 1.5, 10.0)
         from k in Gen.Elements(1f, 0.8f, 1.3f, 2.5f, -0.7f)
         from seed in Gen.Choose(0, 1_000_000)
         select new KlifCase([steps, .. inner], decay, hard, detach, scale, surrogate, threshold, reset, tau, k, seed)).ToArbitrary();

    public static Arbitrary<LiafCase> LiafCases() =>
        (from steps in Gen.Choose(1, 8)
         from rank in Gen.Choose(1, 3)
         from inner in Gen.ArrayOf(Dim(70), rank)
         from act in Gen.Elements(LiafActivation.Sigmoid, LiafActivation.Tanh, LiafActivation.Relu)
         from thresholdRelated in Gen.Elements(true, false)
         from decay in Gen.Elements(true, false)
         from hard in Gen.Elements(true, false)
         from detach in Gen.Elements(true, false)
         from surrogate in Gen.Elements("Sigmoid", "ATan", "PiecewiseQuadratic", "SoftSign", "Erf", "PiecewiseLeakyReLU", "Rect")
         from threshold in Gen.Elements(1f, 0.5f, 2f)
         from reset in Gen.Elements(0f, -0.25f)
         from tau in Gen.Elements(2.0, 1.5, 10.0)
         from seed in Gen.Choose(0, 1_000_000)
         select new LiafCase([steps, .. inner], act, thresholdRelated, decay, hard, detach, surrogate, threshold, reset, tau, seed)).ToArbitrary();

    public static Arbitrary<IlifCase> IlifCases() =>
        (from steps in Gen.Choose(1, 8)
         from rank in Gen.Choose(1, 3)
         from inner in Gen.ArrayOf(Dim(70), rank)
         from tau in Gen.Elements(4.0 / 3.0, 2.0, 1.5, 10.0)
         from threshold in Gen.Elements(1f, 0.5f, 0.25f, 2f)
         from maxCount in Gen.Elements(1, 2, 4, 8, 15)
         from window in Gen.Elements<double[]?>(null, [0.5, 3.5], [-1.0, 2.0], [0.0, 0.0])
         from detach in Gen.Elements(true, false)
         from seed in Gen.Choose(0, 1_000_000)
         select new IlifCase([steps, .. inner], tau, threshold, maxCount, window, detach, seed)).ToArbitrary();

    public static Arbitrary<RecurrentNeuronCase> RecurrentNeuronCases() =>
        (from steps in Gen.Choose(1, 8)
         from rank in Gen.Choose(1, 3)
         from inner in Gen.ArrayOf(Dim(70), rank)
         from kind in Gen.Elements(RecurrentModels.Kinds)
         from variant in Gen.Choose(0, RecurrentModels.Variants - 1)
         from hard in Gen.Elements(true, false)
         from detach in Gen.Elements(true, false)
         from surrogate in Gen.Elements("Sigmoid", "ATan", "PiecewiseQuadratic", "SoftSign", "Erf", "PiecewiseLeakyReLU", "Rect")
         from threshold in Gen.Elements(1f, 0.7f, 1.5f)
         from reset in Gen.Elements(0f, -0.1f, -0.25f)
         from seed in Gen.Choose(0, 1_000_000)
         select new RecurrentNeuronCase([steps, .. inner], kind, variant, hard, detach, surrogate, threshold, reset, seed)).ToArbitrary();

    public static Arbitrary<ProductCase> ProductCases() =>
        (from m in Dim(70)
         from k in Dim(200)
         from n in Dim(90)
         from rate in Rate()
         from seed in Gen.Choose(0, 1_000_000)
         select new ProductCase(m, k, n, rate, seed)).ToArbitrary();

    /// <summary>
    /// Quantized products around the integer kernels' tiles and tails: M across the 6-row tile and 96-row block, K
    /// around multiples of 4 and 64 and past a chunk (128, 256 or 1024), N around the 16-, 32-, 64- and 128-column
    /// panels; counts up to 1 (binary), 4 (QSD's D), 127 and 128 (either side of the largest count whose pair sums of
    /// 8-bit codes cannot saturate) or the whole byte, which forces the int16 runs down to one step.
    /// </summary>
    public static Arbitrary<QuantizedCase> QuantizedCases() =>
        (from m in Gen.OneOf(Dim(40), Gen.Elements(95, 96, 97, 193))
         from k in Gen.OneOf(Dim(150), Gen.Elements(3, 4, 5, 255, 257, 1027))
         from n in Gen.OneOf(Dim(70), Gen.Elements(15, 16, 17, 33, 129))
         from bits in Gen.Elements(8, 4)
         from maxCount in Gen.Elements(1, 4, 4, 127, 128, 255)
         from rate in Rate()
         from seed in Gen.Choose(0, 1_000_000)
         select new QuantizedCase(m, k, n, bits, maxCount, rate, seed)).ToArbitrary();

    /// <summary>
/// Quantized convolutions of 1–3 images of up to 5 channels, 1–12 pixels high, 1–12 or 17–40 wide (rows wider than
/// a 256-bit vector of int16), kernels 1–7, strides 1–3, padding 0–3.
/// </summary>
    public static Arbitrary<QuantizedConvCase> QuantizedConvCases() =>
        (from images in Gen.Choose(1, 3)
         from channels in Gen.Choose(1, 5)
         from kh in Gen.Choose(1, 7)
         from kw in Gen.Choose(1, 7)
         from padding in Gen.Choose(0, 3)
         from h in Gen.Choose(Math.Max(1, kh - 2 * padding), 12)
         from w in Gen.OneOf(Gen.Choose(Math.Max(1, kw - 2 * padding), 12), Gen.Choose(17, 40))
         from outChannels in Gen.Choose(1, 20)
         from stride in Gen.Choose(1, 3)
         from bits in Gen.Elements(8, 4)
         from maxCount in Gen.Elements(1, 4, 255)
         from seed in Gen.Choose(0, 1_000_000)
         select new QuantizedConvCase(images, channels, h, w, outChannels, kh, kw, stride, padding, bits, maxCount, seed)).ToArbitrary();

    /// <summary>
    /// Broadcast operand pairs: an output shape of rank up to 4, from which each operand drops some leading axes
    /// and sets some of the remaining ones to 1.
    /// </summary>
    public static Arbitrary<BroadcastCase> BroadcastCases() =>
        (from output in Dims(4, 12)
         from left in Operand(output)
         from right in Operand(output)
         from seed in Gen.Choose(0, 1_000_000)
         select new BroadcastCase(left, right, seed)).ToArbitrary();

    /// <summary>Threshold problems whose rows are often not a multiple of 64 bits long.</summary>
    public static Arbitrary<ThresholdCase> ThresholdCases() =>
        (from rows in Dim(40)
         from cols in Dim(200)
         from threshold in Gen.OneOf(
             Gen.Elements(0f, 0.5f, 1f, -1f, 2.5f, -0f, float.Epsilon),
             Gen.Choose(-3000, 3000).Select(t => t / 1000f))
         from seed in Gen.Choose(0, 1_000_000)
         select new ThresholdCase(rows, cols, threshold, seed)).ToArbitrary();

    /// <summary>Bit matrices with 0 to 200 rows and columns, at the rates of <see cref="Rate"/>.</summary>
    public static Arbitrary<BitMatrixCase> BitMatrixCases() =>
        (from rows in Gen.OneOf(Gen.Constant(0), Dim(200))
         from cols in Gen.OneOf(Gen.Constant(0), Dim(200))
         from rate in Rate()
         from seed in Gen.Choose(0, 1_000_000)
         select new BitMatrixCase(rows, cols, rate, seed)).ToArbitrary();

    /// <summary>Dimensions of rank 1 to <paramref name="maxRank"/>: leading ones up to <paramref name="maxLeading"/>, the last from <paramref name="last"/>.</summary>
    internal static Gen<int[]> Layout(int maxRank, int maxLeading, Gen<int> last) =>
        from rank in Gen.Choose(1, maxRank)
        from leading in Gen.ArrayOf(Gen.Choose(1, maxLeading), rank - 1)
        from l in last
        select (int[])[.. leading, l];

    /// <summary>Slices of tensors of rank 1 to 4 whose last axis (up to 150) is often just off a 64-bit word.</summary>
    public static Arbitrary<SliceCase> SliceCases() => Slices(Layout(4, 5, Dim(150))).ToArbitrary();

    /// <summary>Joins of one to four inputs of rank 1 to 3; along the last axis the sizes often cross a word.</summary>
    public static Arbitrary<JoinCase> JoinCases() => Joins(Layout(3, 4, Dim(100)), Dim(70)).ToArbitrary();

    /// <summary>Where operands broadcasting to an output of rank 1 to 3 whose last axis reaches 100.</summary>
    public static Arbitrary<WhereCase> WhereCases() => Wheres(Layout(3, 4, Dim(100))).ToArbitrary();

    /// <summary>Arithmetic operand pairs broadcasting to an output of rank 1 to 3 whose last axis reaches 100.</summary>
    public static Arbitrary<SpikeBroadcastCase> SpikeBroadcastCases() => SpikePairs(Layout(3, 4, Dim(100))).ToArbitrary();

    internal static Gen<SliceCase> Slices(Gen<int[]> layout) =>
        from dims in layout
        from axis in Gen.Choose(0, dims.Length - 1)
        from negative in Gen.Elements(false, true)
        from start in Gen.Choose(0, dims[axis])
        from length in Gen.Choose(0, dims[axis] - start)
        from rate in Rate()
        from seed in Gen.Choose(0, 1_000_000)
        select new SliceCase(dims, negative ? axis - dims.Length : axis, start, length, rate, seed);

    internal static Gen<JoinCase> Joins(Gen<int[]> layout, Gen<int> lastSize) =>
        from dims in layout
        from axis in Gen.Choose(-dims.Length, dims.Length - 1)
        from stackAxis in Gen.Choose(-dims.Length - 1, dims.Length)
        from count in Gen.Choose(1, 4)
        from sizes in Gen.ArrayOf(axis == -1 || axis == dims.Length - 1 ? Gen.OneOf(Gen.Choose(0, 3), lastSize) : Gen.Choose(0, 3), count)
        from rate in Rate()
        from seed in Gen.Choose(0, 1_000_000)
        select new JoinCase(dims, axis, stackAxis, sizes, rate, seed);

    internal static Gen<WhereCase> Wheres(Gen<int[]> layout) =>
        from output in layout
        from condition in Operand(output)
        from a in Operand(output)
        from b in Operand(output)
        from rate in Rate()
        from seed in Gen.Choose(0, 1_000_000)
        select new WhereCase(condition.Length == 0 ? [1] : condition, a, b, rate, seed);

    internal static Gen<SpikeBroadcastCase> SpikePairs(Gen<int[]> layout) =>
        from output in layout
        from left in Operand(output)
        from right in Operand(output)
        from rate in Rate()
        from seed in Gen.Choose(0, 1_000_000)
        select new SpikeBroadcastCase(left.Length == 0 ? [1] : left, right.Length == 0 ? [1] : right, rate, seed);

    internal static Gen<int[]> Operand(int[] output) =>
        from drop in Gen.Choose(0, output.Length)
        from ones in Gen.ArrayOf(Gen.Elements(false, false, true), output.Length)
        select Keep(output, drop, ones);

    private static int[] Keep(int[] output, int drop, bool[] ones)
    {
        var dims = new int[output.Length - drop];
        for (int i = 0; i < dims.Length; i++) dims[i] = ones[drop + i] ? 1 : output[drop + i];
        return dims;
    }
}

/// <summary>
/// Small problems for finite-difference gradient checks, where every input element costs two evaluations of the
/// function: tensors of up to a few hundred elements, broadcast pairs, and matrix products whose dimensions are
/// often not multiples of the SIMD vector width (4, 8 or 16 floats).
/// </summary>
public static class SmallGenerators
{
    /// <summary>A dimension in [1, max], often one just off a vector width.</summary>
    public static Gen<int> Dim(int max) =>
        Gen.OneOf(Gen.Choose(1, max), Gen.Elements(1, 3, 4, 5, 7, 8, 9, 13, 17).Where(d => d <= max));

    /// <summary>Sequences of at most 3 rows of 4 steps and 6 channels over up to 5 tokens, for finite differences.</summary>
    public static Arbitrary<SequenceCase> SequenceCases() =>
        (from b in Gen.Choose(1, 3)
         from t in Gen.Choose(1, 4)
         from c in Dim(6)
         from v in Gen.Choose(1, 5)
         from seed in Gen.Choose(0, 1_000_000)
         select new SequenceCase(b, t, c, v, seed)).ToArbitrary();

    /// <summary>Tensors of rank 1 to 4, at most about 250 elements.</summary>
    public static Arbitrary<TensorCase> TensorCases() =>
        (from rank in Gen.Choose(1, 4)
         from dims in Gen.ArrayOf(Dim(rank switch { 1 => 17, 2 => 9, 3 => 5, _ => 4 }), rank)
         from seed in Gen.Choose(0, 1_000_000)
         select new TensorCase(dims, seed)).ToArbitrary();

    /// <summary>Broadcast operand pairs whose output has rank up to 3 and dimensions up to 5.</summary>
    public static Arbitrary<BroadcastCase> BroadcastCases() =>
        (from rank in Gen.Choose(1, 3)
         from output in Gen.ArrayOf(Dim(5), rank)
         from left in Generators.Operand(output)
         from right in Generators.Operand(output)
         from seed in Gen.Choose(0, 1_000_000)
         select new BroadcastCase(left, right, seed)).ToArbitrary();

    /// <summary>Products <c>[M, K]·[K, N]</c> with every dimension in [1, 17].</summary>
    public static Arbitrary<ProductCase> ProductCases() =>
        (from m in Dim(17)
         from k in Dim(17)
         from n in Dim(17)
         from rate in Generators.Rate()
         from seed in Gen.Choose(0, 1_000_000)
         select new ProductCase(m, k, n, rate, seed)).ToArbitrary();

    /// <summary>Slices of tensors of rank 1 to 3 with at most about 150 elements.</summary>
    public static Arbitrary<SliceCase> SliceCases() => Generators.Slices(Generators.Layout(3, 4, Dim(9))).ToArbitrary();

    /// <summary>Joins of one to four inputs of rank 1 to 3 with at most a few dozen elements each.</summary>
    public static Arbitrary<JoinCase> JoinCases() => Generators.Joins(Generators.Layout(3, 3, Dim(5)), Dim(5)).ToArbitrary();

    /// <summary>Where operands broadcasting to an output of rank 1 to 3 and dimensions up to 5.</summary>
    public static Arbitrary<WhereCase> WhereCases() => Generators.Wheres(Generators.Layout(3, 4, Dim(5))).ToArbitrary();

    /// <summary>Arithmetic operand pairs broadcasting to an output of rank 1 to 3 and dimensions up to 5.</summary>
    public static Arbitrary<SpikeBroadcastCase> SpikeBroadcastCases() => Generators.SpikePairs(Generators.Layout(3, 4, Dim(5))).ToArbitrary();

    /// <summary>Spike trains of 1 to 8 steps, 1 to 6 rows and 1 to 200 neurons (often just past a 64-bit word).</summary>
    public static Arbitrary<SpikeTrainCase> SpikeTrainCases() =>
        (from t in Gen.Choose(1, 8)
         from b in Gen.Choose(1, 6)
         from n in Generators.Dim(200)
         from rate in Generators.Rate()
         from seed in Gen.Choose(0, 1_000_000)
         select new SpikeTrainCase(t, b, n, rate, seed)).ToArbitrary();
}

/// <summary>
/// A spike-driven attention problem: operands <c>[N, H, L, D]</c> whose bits fire at <paramref name="Rate"/>, and
/// normally distributed values for dense operands and output gradients.
/// </summary>
public sealed record AttentionCase(int N, int H, int L, int D, double Rate, int Seed)
{
    public int[] Dims => [N, H, L, D];

    public int Count => N * H * L * D;

    /// <summary>0/1 values firing at <see cref="Rate"/>, a different pattern for each <paramref name="salt"/>.</summary>
    public float[] Bits(int salt) => new SpikeCase(N * H * L, D, Rate, Seed * 31 + salt).Dense();

    public float[] Normal(int count, int salt)
    {
        var rng = new Random(Seed * 7919 + salt);
        var v = new float[count];
        for (int i = 0; i < v.Length; i++) v[i] = (float)Reference.Normal(rng);
        return v;
    }

    public override string ToString() => $"AttentionCase([{N}, {H}, {L}, {D}], rate {Rate}, seed {Seed})";
}

/// <summary>Attention problems with up to 40 tokens and 1 to 200 channels per head (often just off a 64-bit word).</summary>
public static class AttentionGenerators
{
    public static Arbitrary<AttentionCase> AttentionCases() =>
        (from n in Gen.Choose(1, 2)
         from h in Gen.Choose(1, 3)
         from l in Generators.Dim(40)
         from d in Generators.Dim(200)
         from rate in Generators.Rate()
         from seed in Gen.Choose(0, 1_000_000)
         select new AttentionCase(n, h, l, d, rate, seed)).ToArbitrary();
}

/// <summary>Attention problems small enough for finite differences: at most 2 × 2 × 5 × 9 elements per operand.</summary>
public static class SmallAttentionGenerators
{
    public static Arbitrary<AttentionCase> AttentionCases() =>
        (from n in Gen.Choose(1, 2)
         from h in Gen.Choose(1, 2)
         from l in Gen.Choose(1, 5)
         from d in SmallGenerators.Dim(9)
         from rate in Generators.Rate()
         from seed in Gen.Choose(0, 1_000_000)
         select new AttentionCase(n, h, l, d, rate, seed)).ToArbitrary();
}

/// <summary>
/// A spiking attention problem: q, k and v of <c>[N, H, L, D]</c>, as spikes at one firing rate or as normal values,
/// each operand drawn from its own salt.
/// </summary>
public sealed record SpikingAttentionCase(int N, int H, int L, int D, double Rate, int Seed)
{
    public int[] Dims => [N, H, L, D];

    public int Count => N * H * L * D;

    public float[] Bits(int salt)
    {
        var rng = new Random(Seed * 7919 + salt);
        var v = new float[Count];
        for (int i = 0; i < v.Length; i++) v[i] = rng.NextDouble() < Rate ? 1f : 0f;
        return v;
    }

    public float[] Normal(int salt)
    {
        var rng = new Random(Seed * 7919 + salt);
        var v = new float[Count];
        for (int i = 0; i < v.Length; i++) v[i] = (float)Reference.Normal(rng);
        return v;
    }

    public override string ToString() => $"SpikingAttentionCase([{N}, {H}, {L}, {D}], rate {Rate}, seed {Seed})";
}

/// <summary>
/// Spiking attention problems: head widths around the 64-bit word (1 to 130 channels, so rows of one to three
/// words with and without padding) and odd token counts.
/// </summary>
public static class SpikingAttentionGenerators
{
    /// <summary>N and H in [1, 3], L often odd up to 49, D in [1, 130] often at a word boundary.</summary>
    public static Arbitrary<SpikingAttentionCase> SpikingAttentionCases() =>
        (from n in Gen.Choose(1, 3)
         from h in Gen.Choose(1, 3)
         from l in Gen.Elements(1, 2, 3, 5, 7, 8, 13, 17, 49)
         from d in Gen.OneOf(Gen.Elements(1, 16, 63, 64, 65, 100, 128, 130), Gen.Choose(1, 130))
         from rate in Generators.Rate()
         from seed in Gen.Choose(0, 1_000_000)
         select new SpikingAttentionCase(n, h, l, d, rate, seed)).ToArbitrary();
}

/// <summary>Small spiking attention problems for finite-difference checks, where every input element costs two evaluations.</summary>
public static class SmallSpikingAttentionGenerators
{
    /// <summary>At most 2 × 2 × 5 × 5 elements per operand.</summary>
    public static Arbitrary<SpikingAttentionCase> SmallSpikingAttentionCases() =>
        (from n in Gen.Choose(1, 2)
         from h in Gen.Choose(1, 2)
         from l in Gen.Choose(1, 5)
         from d in Gen.Choose(1, 5)
         from rate in Generators.Rate()
         from seed in Gen.Choose(0, 1_000_000)
         select new SpikingAttentionCase(n, h, l, d, rate, seed)).ToArbitrary();
}

/// <summary>
/// A parallel spiking neuron problem: the input <c>[T, ...]</c>, the class, its order k (MaskedPSN, SlidingPSN) and λ
/// (MaskedPSN), the surrogate and the seed of the weights, bias, input and upstream gradient.
/// </summary>
public sealed record ParallelNeuronCase(int[] Dims, ParallelKind Kind, int Order, double Lambda, string Surrogate, int Seed)
{
    public Shape Shape => new(Dims);

    public int Steps => Dims[0];

    public global::Spiking.Autograd.Surrogates.Surrogate CreateSurrogate() => global::Spiking.Autograd.Surrogates.Surrogate.Create(Surrogate);

    /// <summary>The weight's shape: <c>[T, T]</c>, or <c>[k]</c> for SlidingPSN.</summary>
    public Shape WeightShape => Kind == ParallelKind.Sliding ? new(Order) : new(Steps, Steps);

    /// <summary>The bias's shape: <c>[T, 1]</c>, or a scalar for SlidingPSN.</summary>
    public Shape BiasShape => Kind == ParallelKind.Sliding ? new() : new(Steps, 1);

    /// <summary>
    /// Weights uniform in ±1.5/√T (±1 for SlidingPSN), biases in [−1, 0.3], the input normal around 0.3, the upstream
    /// gradient normal; each column of the input is redrawn until every <c>H</c> is 1e-3 from 0 and from the
    /// surrogate's jumps, so float32 cannot flip a spike or pick another piece of the surrogate.
    /// </summary>
    public (float[] Weight, float[] Bias, float[] X, float[] G) Inputs()
    {
        var rng = new Random(Seed);
        var weight = new float[WeightShape.ElementCount];
        double bound = Kind == ParallelKind.Sliding ? 1.0 : 1.5 / Math.Sqrt(Steps);
        for (int i = 0; i < weight.Length; i++) weight[i] = (float)((2 * rng.NextDouble() - 1) * bound);
        var bias = new float[BiasShape.ElementCount];
        for (int i = 0; i < bias.Length; i++) bias[i] = (float)(-1 + 1.3 * rng.NextDouble());
        int n = Shape.ElementCount, columns = n / Steps;
        var x = new float[n];
        var g = new float[n];
        for (int i = 0; i < n; i++) g[i] = (float)Reference.Normal(rng);
        var matrix = ParallelNeuronReference.Matrix(Kind, weight, Steps, Order, Lambda);
        var surrogate = CreateSurrogate();
        for (int c = 0; c < columns; c++)
        {
            for (int attempt = 0; attempt < 1000; attempt++)
            {
                for (int t = 0; t < Steps; t++) x[t * columns + c] = (float)(0.3 + 1.2 * Reference.Normal(rng));
                if (ParallelNeuronReference.ColumnMargin(matrix, bias, x, Steps, c, surrogate) >= 1e-3) break;
            }
        }
        return (weight, bias, x, g);
    }

    public override string ToString() => $"ParallelNeuronCase({Shape.Format(Dims)}, {Kind}, k {Order}, lambda {Lambda}, {Surrogate}, seed {Seed})";
}

/// <summary>A few-spikes problem: the input <c>[K, ...]</c>, the surrogate, and the seed of the table, input and upstream gradient.</summary>
public sealed record FewSpikeCase(int[] Dims, string Surrogate, int Seed)
{
    public Shape Shape => new(Dims);

    public int K => Dims[0];

    public global::Spiking.Autograd.Surrogates.Surrogate CreateSurrogate() => global::Spiking.Autograd.Surrogates.Surrogate.Create(Surrogate);

    /// <summary>
    /// A table of roughly halving thresholds and subtractions with output weights in [0.2, 2]; an input whose gate spans
    /// about [−0.3, 2.3·θ_0]; the upstream gradient normal. A column's first step is nudged until every
    /// <c>u_k − θ_k</c> is 1e-3 from 0 and from the surrogate's jumps.
    /// </summary>
    public (float[] Theta, float[] H, float[] D, float[] X, float[] G) Inputs()
    {
        var rng = new Random(Seed);
        var theta = new float[K];
        var h = new float[K];
        var d = new float[K];
        for (int k = 0; k < K; k++)
        {
            theta[k] = (float)(Math.ScaleB(1.0, -k) * (0.8 + 0.4 * rng.NextDouble()));
            h[k] = (float)(theta[k] * (0.8 + 0.4 * rng.NextDouble()));
            d[k] = (float)(0.2 + 1.8 * rng.NextDouble());
        }
        int n = Shape.ElementCount, columns = n / K;
        var x = new float[n];
        var g = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((-0.3 + 2.6 * theta[0] * rng.NextDouble()) / K);
        for (int i = 0; i < n; i++) g[i] = (float)Reference.Normal(rng);
        var surrogate = CreateSurrogate();
        for (int c = 0; c < columns; c++)
        {
            for (int attempt = 0; attempt < 1000 && ParallelNeuronReference.FewSpikeMargin(theta, h, x, c, surrogate) < 1e-3; attempt++) x[c] += 0.0037f;
        }
        return (theta, h, d, x, g);
    }

    public override string ToString() => $"FewSpikeCase({Shape.Format(Dims)}, {Surrogate}, seed {Seed})";
}

/// <summary>Problems for the parallel spiking neurons and few-spikes coding: T (or K) 1 to 8, rows often just off a vector width.</summary>
public static class ParallelNeuronGenerators
{
    private static Gen<string> Surrogates() => Gen.Elements("Sigmoid", "ATan", "PiecewiseQuadratic", "SoftSign", "Erf", "PiecewiseLeakyReLU", "Rect");

    public static Arbitrary<ParallelNeuronCase> ParallelNeuronCases() =>
        (from steps in Gen.Choose(1, 8)
         from rank in Gen.Choose(1, 3)
         from inner in Gen.ArrayOf(Generators.Dim(70), rank)
         from kind in Gen.Elements(ParallelKind.Psn, ParallelKind.Masked, ParallelKind.Sliding)
         from order in Gen.Choose(1, 10)
         from lambda in Gen.Elements(0.0, 0.3, 0.75, 1.0, 1.5)
         from surrogate in Surrogates()
         from seed in Gen.Choose(0, 1_000_000)
         select new ParallelNeuronCase([steps, .. inner], kind, order, lambda, surrogate, seed)).ToArbitrary();

    public static Arbitrary<FewSpikeCase> FewSpikeCases() =>
        (from k in Gen.Choose(1, 8)
         from rank in Gen.Choose(1, 3)
         from inner in Gen.ArrayOf(Generators.Dim(70), rank)
         from surrogate in Surrogates()
         from seed in Gen.Choose(0, 1_000_000)
         select new FewSpikeCase([k, .. inner], surrogate, seed)).ToArbitrary();
}
