namespace Spiking.Tensors;

/// <summary>
/// The Philox stream every library consumer of a seed draws from by default, in one place. A
/// <see cref="PhiloxGenerator"/> puts its stream in counter words 2–3 (low word in 2) and counts blocks in words
/// 0–1, so two consumers given the same seed never read the same words as long as their streams differ: one user
/// seed can drive the weights, the spikes, the dropout masks and the shuffle without tying any two of them together.
/// </summary>
/// <remarks>
/// Counter words (2, 3) of each stream: <see cref="Initialization"/> (0, 0), <see cref="Poisson"/> (0x9015, 0),
/// <see cref="DropoutLayer"/>(i) (0xD0D0, i), <see cref="Shuffle"/>(e) (e, <see cref="ShuffleTag"/>),
/// <see cref="TextWindows"/> (0x54455854, 0), <see cref="TextSampling"/> (0x53414D50, 0). Any two differ in one of the words (a dropout layer index would have
/// to reach the tag, 1.4 billion layers, to meet a shuffle), and the block count lives in words 0–1 and wraps there,
/// so no number of draws moves a consumer into another's stream.
/// A new consumer takes a new stream here; <c>RandomStreamsTests</c> checks that none shares words with another.
/// </remarks>
public static class RandomStreams
{
    /// <summary>
    /// Stream 0, a <see cref="PhiloxGenerator"/>'s default: model initialisation. <c>Spiking.Layers</c>'
    /// <c>ModelSeed</c> draws from it, and through it every layer built without a generator (<c>Linear</c>,
    /// <c>Conv2d</c>, <c>DepthwiseConv2d</c>).
    /// </summary>
    public const ulong Initialization = 0;

    /// <summary>0x9015 ("Poisson"): the spikes of <c>Spiking.Layers</c>' <c>PoissonEncoder</c>, which the <c>spiking</c> command passes too.</summary>
    public const ulong Poisson = 0x9015;

    /// <summary>
    /// 0xD0D0 in counter word 2: the masks of <c>Spiking.Layers</c>' <c>Dropout</c> built without a generator.
    /// The i-th such layer built since the model seed was set takes <see cref="DropoutLayer"/>(i), so two dropout
    /// layers of one model never share a mask.
    /// </summary>
    public const ulong Dropout = 0xD0D0;

    /// <summary>
    /// "SHUF" (0x53485546) in counter word 3: the shuffle of <c>Spiking.Layers</c>' <c>DataLoader</c>, whose epoch
    /// e draws from stream <see cref="Shuffle"/>(e).
    /// </summary>
    public const uint ShuffleTag = 0x5348_5546;

    /// <summary>
    /// "TEXT" (0x54455854) in counter word 2: the window starts of <c>Spiking.Layers</c>' <c>TextWindows</c>, the
    /// training windows of a character language model. Word 3 is 0, so no shuffle epoch (word 3 the tag) and no
    /// dropout layer (word 2 0xD0D0) can meet it.
    /// </summary>
    public const ulong TextWindows = 0x5445_5854;

    /// <summary>
    /// "SAMP" (0x53414D50) in counter word 2: the characters <c>Spiking.Layers</c>' <c>TextGenerator</c> samples from
    /// a language model's next-token distribution. Word 3 is 0, like <see cref="TextWindows"/>, from which word 2 tells it.
    /// </summary>
    public const ulong TextSampling = 0x5341_4D50;

    /// <summary>
    /// "SLTT" (0x534C5454) in counter word 2: the time steps SLTT-K trains in each batch (<c>Spiking.Layers</c>'
    /// training methods). Word 3 is 0, as for the other fixed streams, so no shuffle epoch or dropout layer meets it.
    /// </summary>
    public const ulong TrainingSteps = 0x534C_5454;

    /// <summary>The stream of the <paramref name="layer"/>-th default dropout layer: <see cref="Dropout"/> in counter word 2, the layer in word 3.</summary>
    public static ulong DropoutLayer(uint layer) => Dropout | ((ulong)layer << 32);

    /// <summary>The stream of the shuffle of epoch <paramref name="epoch"/>: the epoch in counter word 2, <see cref="ShuffleTag"/> in word 3.</summary>
    public static ulong Shuffle(uint epoch) => epoch | ((ulong)ShuffleTag << 32);
}
