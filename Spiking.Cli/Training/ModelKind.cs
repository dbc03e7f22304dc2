using System;
using System.Collections.Generic;
using System.Globalization;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Layers.Data;
using Spiking.Layers.Serialization;
using Spiking.Tensors;

namespace Spiking.Cli.Training;

/// <summary>
/// A reference workload of DESIGN.md as the CLI runs it: the network, its default number of time steps and how a
/// batch of images becomes its input (Poisson spikes for W1, the image as current at every step for W2).
/// </summary>
internal sealed class ModelKind
{
    private ModelKind(string name, string workload, int defaultTimeSteps, int largestTensorPerSample, Func<NeuronKind, bool, SdsaVariant, int, Module> build, bool rateCrossEntropy = false)
    {
        (Name, Workload, DefaultTimeSteps, LargestTensorPerSample, _build, RateCrossEntropy) = (name, workload, defaultTimeSteps, largestTensorPerSample, build, rateCrossEntropy);
    }

    /// <summary>
    /// A power-of-two bound on the floats per sample and time step of the model's largest tensor (W1: its 784 inputs;
    /// W2: the 32·9·14·14 unfolded input of its second convolution; Spikformer and SDT: a 64-channel 3×3 convolution
    /// unfolded at 28×28; Meta-SpikeFormer: the 64·9·14·14 unfolded input of <c>ConvBlock1_2</c>'s second convolution),
    /// so T × batch can be refused before a tensor would pass <see cref="int.MaxValue"/> elements.
    /// </summary>
    public int LargestTensorPerSample { get; }

    /// <summary>
    /// Refuses a batch and time-step count whose largest tensor would hold more elements than one array can.
    /// </summary>
    /// <exception cref="UsageException">T × batch × <see cref="LargestTensorPerSample"/> exceeds <see cref="int.MaxValue"/>.</exception>
    public void CheckSize(int timeSteps, int batch)
    {
        if ((long)timeSteps * batch * LargestTensorPerSample > int.MaxValue)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"--timesteps {timeSteps} × --batch {batch} is too large for --model {Name}: its largest tensor would pass {int.MaxValue} elements; keep T × batch at most {int.MaxValue / LargestTensorPerSample}"));
        }
    }

    private readonly Func<NeuronKind, bool, SdsaVariant, int, Module> _build;

    /// <summary>Whether the loss is cross-entropy on the mean output (the transformers) rather than MSE on the firing rate (W1, W2).</summary>
    public bool RateCrossEntropy { get; }

    public string Name { get; }

    public string Workload { get; }

    public int DefaultTimeSteps { get; }

    /// <summary>
    /// The network for <paramref name="timeSteps"/> steps, its spiking layers of kind <paramref name="neuron"/> and its
    /// output read by <paramref name="readout"/> (W1 and W2 only; see <see cref="TakesNeurons"/>). W2's input is the same image at every step, so its first
    /// convolution and batch norm run once per image and are repeated over time before the first neuron (see
    /// <see cref="Sequential.UseStaticPrefix"/>): the same values and gradients as on T copies, T times less work.
    /// </summary>
    /// <exception cref="ArgumentException">A neuron other than the LIF or a readout other than spikes for a model that does not take one, an SDSA core other than SDSA-1 for a model other than the SDT, or a weight width other than 32 for a model other than QSD.</exception>
    public Module Build(int timeSteps, NeuronKind neuron = NeuronKind.Lif, Readout readout = Readout.Spikes, SdsaVariant sdsa = SdsaVariant.KeyValueMask, int? weightBits = null)
    {
        if (weightBits is not null && weightBits != 32 && !TakesWeightBits)
        {
            throw new ArgumentException($"--model {Name} has float weights only; --weight-bits is for --model qsd.", nameof(weightBits));
        }
        if ((neuron != NeuronKind.Lif || readout != Readout.Spikes) && !TakesNeurons)
        {
            throw new ArgumentException($"--model {Name} is built with its own neurons and output only.", nameof(neuron));
        }
        if (sdsa != SdsaVariant.KeyValueMask && !TakesSdsa)
        {
            throw new ArgumentException($"--model {Name} has no SDSA variants; --sdsa is for --model sdt.", nameof(sdsa));
        }
        var net = _build(neuron, readout == Readout.Spikes, sdsa, weightBits ?? DefaultWeightBits);
        SetTimeSteps(net, timeSteps);
        return net;
    }

    /// <summary>
    /// Makes a network <see cref="Build"/> made run <paramref name="timeSteps"/> steps from now on (W2's static prefix
    /// repeats its output that many times; the other models take T from their input), keeping every weight and
    /// statistic: how a stage of <c>--timesteps-schedule</c> starts from the previous one.
    /// </summary>
    public void SetTimeSteps(Module net, int timeSteps)
    {
        if (net is Sequential sequential && SingleStepInput) sequential.UseStaticPrefix(2, timeSteps);
    }

    /// <summary>Whether <c>--neuron</c> and <c>--readout</c> can choose the model's spiking layers and output (W1 and W2).</summary>
    public bool TakesNeurons => PoissonInput || SingleStepInput;

    /// <summary>Whether <c>--sdsa</c> chooses the model's attention core (the Spike-driven Transformer).</summary>
    public bool TakesSdsa => Name == "sdt";

    /// <summary>Whether <c>--weight-bits</c> chooses the width of the model's weights (QSD: 4, 8, or 32 for its float twin).</summary>
    public bool TakesWeightBits => Name == "qsd";

    /// <summary>The weight width the model is built with when none is given: QSD's 4 bits, float for the others.</summary>
    public int DefaultWeightBits => TakesWeightBits ? 4 : 32;

    /// <summary>The training loss of this workload.</summary>
    public Func<Variable, int[], int, Variable> Loss => LossFor(Readout.Spikes);

    /// <summary>The training loss of this workload read by <paramref name="readout"/>: cross-entropy on the mean output for the transformers and the membrane readout, else the MSE of the firing rate.</summary>
    public Func<Variable, int[], int, Variable> LossFor(Readout readout) => RateCrossEntropy || readout == Readout.Membrane
        ? static (output, labels, _) => Losses.FiringRateCrossEntropy(output, labels)
        : static (output, labels, _) => Losses.FiringRateMse(output, labels);

    /// <summary>Whether the model takes one time step and repeats it itself (a static prefix).</summary>
    private bool SingleStepInput => Name == "cnn";

    public bool PoissonInput => Name == "mlp";

    /// <summary>How images become the model's input: <c>poisson</c> spikes (W1) or the <c>direct</c> image as current.</summary>
    public string Encoding => PoissonInput ? "poisson" : "direct";

    /// <summary>The checkpoint metadata keys of a training run's recipe, which <c>spiking eval</c> reads back.</summary>
    public const string ModelKey = "model", WorkloadKey = "workload", TimeStepsKey = "T", EncodingKey = "encoding", NeuronKey = "neuron",
        ScheduleKey = "timesteps_schedule", ReadoutKey = "readout", SdsaKey = "sdsa", WeightBitsKey = "weight_bits";

    /// <summary>
    /// The recipe a checkpoint carries: model, workload, time steps and input encoding; the neuron when it is not the
    /// LIF, the readout when it is not spikes, the SDSA core (1 to 4) of the Spike-driven Transformer, whose state
    /// dict is the same for all four, and the schedule of time steps it was trained through when there was one (for
    /// the record only).
    /// </summary>
    public Dictionary<string, string> Recipe(int timeSteps, NeuronKind neuron = NeuronKind.Lif, IReadOnlyList<int>? schedule = null, Readout readout = Readout.Spikes,
        SdsaVariant sdsa = SdsaVariant.KeyValueMask, int? weightBits = null)
    {
        var recipe = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ModelKey] = Name,
            [WorkloadKey] = Workload,
            [TimeStepsKey] = timeSteps.ToString(CultureInfo.InvariantCulture),
            [EncodingKey] = Encoding,
        };
        if (neuron != NeuronKind.Lif) recipe[NeuronKey] = neuron.Name();
        if (readout != Readout.Spikes) recipe[ReadoutKey] = readout.Name();
        if (TakesSdsa) recipe[SdsaKey] = SdsaNumber(sdsa).ToString(CultureInfo.InvariantCulture);
        if (TakesWeightBits) recipe[WeightBitsKey] = (weightBits ?? DefaultWeightBits).ToString(CultureInfo.InvariantCulture);
        if (schedule is not null) recipe[ScheduleKey] = TimeStepSchedule.Format(schedule);
        return recipe;
    }

    /// <summary>The readout of a checkpoint: its recipe's <c>readout</c>, else spikes (the state dicts of the two readouts of a LIF network are alike).</summary>
    /// <exception cref="InputException">The recipe names a readout this version does not know.</exception>
    public static Readout ReadoutOf(SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!file.Metadata.TryGetValue(ReadoutKey, out var name)) return Readout.Spikes;
        return Readouts.TryParse(name) ?? throw new InputException(
            $"checkpoint '{file.Source}' was written with readout '{name}' (its metadata), which this version does not know; known: spikes, membrane");
    }

    /// <summary>The SDSA core of a checkpoint: its recipe's <c>sdsa</c> (1 to 4), else SDSA-1 (what <c>spiking train</c> built before the key existed).</summary>
    /// <exception cref="InputException">The recipe's <c>sdsa</c> is not 1, 2, 3 or 4.</exception>
    public static SdsaVariant SdsaOf(SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!file.Metadata.TryGetValue(SdsaKey, out var text)) return SdsaVariant.KeyValueMask;
        return Options.ParseInt(text, 1, 4, out int number) ? SdsaFromNumber(number) : throw new InputException(
            $"checkpoint '{file.Source}' records sdsa='{text}' in its metadata; expected 1, 2, 3 or 4");
    }

    /// <summary>
    /// The weight width of a QSD checkpoint: its recipe's <c>weight_bits</c>; without one, 32 when its convolutions
    /// have no LSQ step (<c>alpha</c>), else 4 (the default; an 8-bit state dict has the same names).
    /// </summary>
    /// <exception cref="InputException">The recipe's <c>weight_bits</c> is not 4, 8 or 32.</exception>
    public static int WeightBitsOf(SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Metadata.TryGetValue(WeightBitsKey, out var text))
        {
            return text is "4" or "8" or "32" ? int.Parse(text, CultureInfo.InvariantCulture)
                : throw new InputException($"checkpoint '{file.Source}' records weight_bits='{text}' in its metadata; expected 4, 8 or 32");
        }
        return file.TryGetEntry("downsample1_1.encode_conv.alpha", out _) ? 4 : 32;
    }

    /// <summary>SDSA-<paramref name="number"/> (1 to 4) as the variant it names.</summary>
    public static SdsaVariant SdsaFromNumber(int number) => (SdsaVariant)(number - 1);

    /// <summary>The number n of SDSA-n.</summary>
    public static int SdsaNumber(SdsaVariant variant) => (int)variant + 1;

    /// <summary>
    /// The neuron of a checkpoint: its recipe's <c>neuron</c>, else IIR-SNN's LIF when its state dict has a
    /// <c>threshold_w</c>, else the LIF.
    /// </summary>
    /// <exception cref="InputException">The recipe names a neuron this version does not know.</exception>
    public static NeuronKind NeuronOf(SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (file.Metadata.TryGetValue(NeuronKey, out var name))
        {
            return NeuronKinds.TryParse(name) ?? throw new InputException(
                $"checkpoint '{file.Source}' was written with neuron '{name}' (its metadata), which this version does not know; known: lif, iir-lif");
        }
        foreach (var entry in file.Entries)
        {
            if (entry.Name.EndsWith(".threshold_w", StringComparison.Ordinal)) return NeuronKind.IirLif;
        }
        return NeuronKind.Lif;
    }

    /// <summary>Whether every op of the model's training step has a device path (W1 and W2; not yet the transformers).</summary>
    public bool RunsOnDevices => PoissonInput || SingleStepInput;

    public static ModelKind Mlp { get; } = new("mlp", "W1", 8, 1 << 10, (neuron, spikingOutput, _, _) => ReferenceModels.SpikingMlp(() => neuron.Layer(), spikingOutput: spikingOutput));

    public static ModelKind Cnn { get; } = new("cnn", "W2", 4, 1 << 16, (neuron, spikingOutput, _, _) => ReferenceModels.SpikingCnn(() => neuron.Layer(), spikingOutput: spikingOutput));

    public static ModelKind Spikformer { get; } = new("spikformer", "W3", 4, 1 << 19, (_, _, _, _) => new Spikformer(), rateCrossEntropy: true);

    public static ModelKind SpikeDriven { get; } = new("sdt", "W3-SDT", 4, 1 << 19, (_, _, sdsa, _) => new SpikeDrivenTransformer(variant: sdsa), rateCrossEntropy: true);

    /// <summary>Meta-SpikeFormer (Spike-driven Transformer V2) in its small Fashion-MNIST configuration (<see cref="MetaSpikeFormerConfig.FashionMnist"/>).</summary>
    public static ModelKind MetaSpikeFormer { get; } = new("metaspikeformer", "W3-MSF", 4, 1 << 17,
        (_, _, _, _) => new Layers.MetaSpikeFormer(MetaSpikeFormerConfig.FashionMnist), rateCrossEntropy: true);

    /// <summary>
    /// The QSD-Transformer (<see cref="QsdTransformer"/>) in Meta-SpikeFormer's Fashion-MNIST configuration, at one
    /// time step as the official model: its multi-level neuron is stateless, so more steps would repeat the first.
    /// </summary>
    public static ModelKind Qsd { get; } = new("qsd", "W3-QSD", 1, 1 << 17,
        (_, _, _, bits) => QsdTransformer.Create(MetaSpikeFormerConfig.FashionMnist, bits), rateCrossEntropy: true);

    /// <summary>The model named by <c>--model</c> (default mlp).</summary>
    /// <exception cref="UsageException">The name is not a model.</exception>
    public static ModelKind Parse(string? name) =>
        name is null ? Mlp : TryParse(name) ?? throw new UsageException($"--model expects mlp, cnn, spikformer, sdt, metaspikeformer, qsd, spikegpt or spiking-lm, got '{name}'");

    /// <summary>The model of a name (or its workload's), or null.</summary>
    public static ModelKind? TryParse(string name) => name switch
    {
        "mlp" or "w1" or "W1" => Mlp,
        "cnn" or "w2" or "W2" => Cnn,
        "spikformer" or "w3" or "W3" => Spikformer,
        "sdt" or "W3-SDT" => SpikeDriven,
        "metaspikeformer" or "W3-MSF" => MetaSpikeFormer,
        "qsd" or "W3-QSD" => Qsd,
        _ => null,
    };

    /// <summary>Recognises a checkpoint's model from its state-dict names: W2 has a <c>0.weight</c>, W1 starts at <c>1.weight</c>.</summary>
    public static ModelKind FromCheckpoint(SafeTensorsFile file) =>
        file.TryGetEntry("block3.0.layer_scale1", out _) ? Qsd
        : file.TryGetEntry("downsample1_1.encode_conv.weight", out _) ? MetaSpikeFormer
        : file.TryGetEntry("block.0.attn.proj_linear.bias", out _) && !file.TryGetEntry("block.0.attn.q_linear.bias", out _) ? SpikeDriven
        : file.TryGetEntry("patch_embed.proj_conv.weight", out _) ? Spikformer
        : file.TryGetEntry("0.weight", out _) ? Cnn : Mlp;

    /// <summary>
    /// The encoding of a batch <c>[B, 1, H, W]</c> for <paramref name="timeSteps"/> steps, on <paramref name="device"/>
    /// (W1: the images are copied there and Poisson-sampled by the device's Philox kernel, the same bits as on the CPU;
    /// W2: the one step <c>[1, B, 1, H, W]</c> its static prefix takes is copied there).
    /// </summary>
    public Func<Tensor, Variable> Encoder(int timeSteps, ulong seed, Device device = default)
    {
        if (PoissonInput)
        {
            var poisson = new PoissonEncoder(seed, RandomStreams.Poisson);
            return images =>
            {
                int batch = images.Shape[0];
                using var flat = images.Reshape(batch, images.Length / batch);
                using var onDevice = flat.To(device);
                return Variable.Constant(poisson.Encode(onDevice, timeSteps));
            };
        }
        if (!SingleStepInput)
        {
            if (device.Kind != DeviceKind.Cpu) throw new NotSupportedException($"--model {Name} encodes its input on the CPU only.");
            return images => Variable.Constant(DirectEncoder.Encode(images, timeSteps));
        }
        // Direct encoding: the model's static prefix repeats the image's first layers over the T steps itself, so
        // only the one step is copied to the device.
        return images =>
        {
            var dims = new int[images.Rank + 1];
            dims[0] = 1;
            for (int i = 0; i < images.Rank; i++) dims[i + 1] = images.Shape[i];
            using var step = images.Reshape(dims);
            return Variable.Constant(step.To(device));
        };
    }
}
