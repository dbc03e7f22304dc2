using System;
using System.Buffers;
using Spiking.Autograd;
using Spiking.Layers.Quantization;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// The base of the LSQ weight layers (<see cref="LsqConv2d"/>, <see cref="LsqConv1d"/>, <see cref="LsqLinear"/>):
/// the QSD-Transformer's <c>_Conv2dQ</c>/<c>_LinearQ</c> with its state-dict entries in PyTorch's order,
/// <c>weight</c>, <c>bias</c> (when present), <c>alpha</c> <c>[O]</c>, the buffer <c>init_state</c> <c>[1]</c> and
/// the inert <c>act.*</c> (<see cref="InertActivationQuantizer"/>). The forward is
/// <c>y = product(x, q) ⊙ α + bias</c> (<see cref="Functional.LsqProduct"/>), the codes q of the weight with one
/// learned step per output channel.
/// </summary>
/// <remarks>
/// The step is initialised on the first forward in training mode while <c>init_state</c> is 0, to
/// <c>2·mean|w|/√Qp</c> over the whole weight for every channel (<see cref="Lsq.InitialStep"/>), and
/// <c>init_state</c> becomes 1, as the official code does; a loaded checkpoint brings <c>init_state</c> = 1 and keeps
/// its steps. Before that the step already holds the same formula of the initial weight (the official one is
/// uninitialised memory), so an evaluation of a fresh layer is defined.
/// </remarks>
public abstract class LsqLayer : Module, IOperationCounter
{
    /// <summary>Registers the entries in the official order and draws the weight and bias as PyTorch's layer does.</summary>
    /// <param name="weightShape">The weight's shape <c>[O, …]</c>.</param>
    /// <param name="fanIn">The fan-in of PyTorch's initialisation bound <c>1/√fan_in</c>.</param>
    /// <param name="actFeatures">The width of the inert <c>act</c> entries (the layer's input channels or features).</param>
    /// <param name="bias">Whether the layer has a bias.</param>
    /// <param name="bits">The weight width, 4 or 8.</param>
    /// <param name="generator">The generator of the initial weights; <see cref="ModelSeed.Shared"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bits"/> is not 4 or 8.</exception>
    private protected LsqLayer(Shape weightShape, int fanIn, int actFeatures, bool bias, int bits, PhiloxGenerator? generator)
    {
        Bits = Lsq.CheckBits(bits, nameof(bits));
        Operations.WeightBits = bits;
        generator ??= ModelSeed.Shared;
        int outChannels = weightShape[0];
        Weight = RegisterParameter("weight", Tensor.Empty(weightShape));
        Initialization.FanInUniform(Weight.Value, fanIn, generator);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Empty(outChannels));
            Initialization.FanInUniform(Bias.Value, fanIn, generator);
        }
        Alpha = RegisterParameter("alpha", Tensor.Full(new Shape(outChannels), Lsq.InitialStep(Weight.Value.AsReadOnlySpan(), bits)));
        RegisterBuffer("init_state", Tensor.Zeros(1));
        Act = RegisterModule("act", new InertActivationQuantizer(actFeatures));
    }

    /// <summary>The weight width, 4 (codes −8..7) or 8 (codes −128..127).</summary>
    public int Bits { get; }

    /// <summary>The full-precision weight <c>[O, …]</c> the codes are taken from.</summary>
    public Parameter Weight { get; }

    /// <summary>The bias <c>[O]</c>, or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>The learned step α <c>[O]</c>, one per output channel.</summary>
    public Parameter Alpha { get; }

    /// <summary>The inert activation quantizer <c>act</c>, carried for its state-dict entries.</summary>
    public InertActivationQuantizer Act { get; }

    /// <summary>Whether the step has been initialised (the buffer <c>init_state</c> is not 0).</summary>
    public bool StepInitialized => Buffer("init_state").ToScalar() != 0f;

    /// <summary>The layer's counters, at its weight width (<see cref="OperationCounts.WeightBits"/> = <see cref="Bits"/>).</summary>
    public OperationCounts Operations { get; } = new();

    /// <summary>
    /// The codes and steps an integer engine computes this layer from, read from the current weight and step (in
    /// evaluation the same codes the forward uses), packed at the layer's width; the bias stays <see cref="Bias"/>.
    /// The layer computes <c>y[o] = α[o]·Σ q[o, …]·x + bias[o]</c>: the product first, then the scale, then the bias.
    /// </summary>
    public QuantizedWeight ExportCodes()
    {
        var weight = Weight.Value.ToArray();
        var steps = Alpha.Value.ToArray();
        var codes = new float[weight.Length];
        Lsq.Codes(weight, steps, Bits, codes);
        var bytes = new sbyte[codes.Length];
        for (int i = 0; i < codes.Length; i++) bytes[i] = (sbyte)codes[i];
        return QuantizedWeight.FromCodes(bytes, Weight.Shape, Bits, steps);
    }

    /// <summary>
    /// Whether evaluation runs the layer on the integer kernels (<see cref="Spiking.Tensors.Kernels.QuantizedLinearKernel"/>
    /// and the convolutions beside it) when its input is multi-level spike counts: every value a whole number of
    /// quarters, halves or ones up to 15 (<see cref="SpikeCountInput.Detect"/>), on the host, in evaluation mode with
    /// no graph recorded. There the codes meet the counts in int32 and each output is scaled once; the float product
    /// of such counts and codes is exact, so the outputs are the float path's, bit for bit. Any other input (the image,
    /// a batch norm's output) takes the float path.
    /// </summary>
    public bool IntegerInference { get; set; }

    /// <summary>Forward passes that took the integer path, for tests that check the path ran.</summary>
    internal int IntegerPasses { get; private set; }

    /// <summary>Sets <see cref="IntegerInference"/> on every LSQ layer of <paramref name="model"/>; returns how many there are.</summary>
    public static int UseIntegerInference(Module model, bool enabled)
    {
        ArgumentNullException.ThrowIfNull(model);
        int layers = 0;
        foreach (var (_, module) in model.NamedModules())
        {
            if (module is LsqLayer lsq)
            {
                lsq.IntegerInference = enabled;
                layers++;
            }
        }
        return layers;
    }

    private object? _kernel;
    private (float Unit, int Weight, int Alpha, int Bias) _kernelKey;

    /// <summary>
    /// The input as counts of its unit when the integer path applies (see <see cref="IntegerInference"/>), in a
    /// pooled array the caller returns; else null.
    /// </summary>
    private protected byte[]? IntegerCounts(Variable input, out float unit)
    {
        unit = 0;
        if (!IntegerInference || Training || GradMode.IsEnabled || input.Spikes is not null || !input.Dense.IsOnHost) return null;
        var values = input.Dense.AsReadOnlySpan();
        if (SpikeCountInput.Detect(values) is not { } counts) return null;
        unit = counts.Unit;
        IntegerPasses++;
        float perUnit = 1f / unit;
        var bytes = ArrayPool<byte>.Shared.Rent(values.Length);
        for (int i = 0; i < values.Length; i++) bytes[i] = (byte)(values[i] * perUnit);
        return bytes;
    }

    /// <summary>
    /// The prepared integer kernel for inputs counted in <paramref name="unit"/>: the layer's codes with the scales
    /// α·unit (exact: the unit is a power of two) and its bias, rebuilt when the weight, step or bias changes.
    /// </summary>
    private protected T IntegerKernel<T>(float unit, Func<QuantizedWeight, float[], T> build) where T : class
    {
        var key = (unit, Weight.Value.Version, Alpha.Value.Version, Bias?.Value.Version ?? 0);
        if (_kernel is T cached && _kernelKey == key) return cached;
        var export = ExportCodes();
        var scales = export.Scales.ToArray();
        for (int i = 0; i < scales.Length; i++) scales[i] *= unit;
        var kernel = build(QuantizedWeight.FromCodes(export.Codes(), export.Shape, Bits, scales), Bias?.Value.ToArray() ?? []);
        (_kernel, _kernelKey) = (kernel, key);
        return kernel;
    }

    /// <summary>
    /// <c>product(q) ⊙ α + bias</c>, with the output channels on <paramref name="outputAxis"/> of the product; in
    /// training mode first initialises the step if <c>init_state</c> is still 0.
    /// </summary>
    private protected Variable Quantized(Func<Variable, Variable> product, int outputAxis)
    {
        if (Training && !StepInitialized) InitializeStep();
        var y = Functional.LsqProduct(Weight, Alpha, Bits, product, outputAxis);
        return Bias is null ? y : Functional.BiasAdd(y, Bias, outputAxis);
    }

    /// <summary>Returns <paramref name="value"/> when it is positive, for the sizes the constructors pass on.</summary>
    private protected static int Positive(int value, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, name);
        return value;
    }

    private void InitializeStep()
    {
        Alpha.Value.Fill(Lsq.InitialStep(Weight.Value.ToArray(), Bits));
        Buffer("init_state").Fill(1f);
    }
}
