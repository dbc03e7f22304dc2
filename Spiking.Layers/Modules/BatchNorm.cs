using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Multi-step batch normalisation (SpikingJelly's <c>layer.BatchNorm1d/2d</c>): <c>[T, B, C, …]</c> folds into
/// <c>[T·B, C, …]</c>, so each channel's statistics are taken over time, batch and space. Training normalises with
/// the batch mean and biased variance and updates the running statistics with <see cref="Momentum"/> (the
/// running variance from the unbiased one); evaluation uses the running statistics. State-dict names are
/// PyTorch's: <c>weight</c>, <c>bias</c>, <c>running_mean</c>, <c>running_var</c>, <c>num_batches_tracked</c>.
/// </summary>
public abstract class BatchNorm : Module
{
    /// <summary>A batch norm over <paramref name="channels"/> channels.</summary>
    private protected BatchNorm(int channels, double eps, double momentum)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "BatchNorm needs eps > 0.");
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "BatchNorm needs momentum in [0, 1].");
        (Channels, Eps, Momentum) = (channels, eps, momentum);
        Weight = RegisterParameter("weight", Tensor.Ones(new Shape(channels)));
        Bias = RegisterParameter("bias", Tensor.Zeros(channels));
        RegisterBuffer("running_mean", Tensor.Zeros(channels));
        RegisterBuffer("running_var", Tensor.Ones(new Shape(channels)));
        BatchesTracked = RegisterInt64Buffer("num_batches_tracked");
    }

    /// <summary>Channels.</summary>
    public int Channels { get; }

    /// <summary>The variance floor.</summary>
    public double Eps { get; }

    /// <summary>The weight of a new batch in the running statistics.</summary>
    public double Momentum { get; }

    /// <summary>γ, <c>[C]</c>.</summary>
    public Parameter Weight { get; }

    /// <summary>β, <c>[C]</c>.</summary>
    public Parameter Bias { get; }

    /// <summary>The running mean, <c>[C]</c>, on the module's device (read anew after <see cref="Module.To"/>).</summary>
    public Tensor RunningMean => Buffer("running_mean");

    /// <summary>The running (unbiased) variance, <c>[C]</c>, on the module's device (read anew after <see cref="Module.To"/>).</summary>
    public Tensor RunningVar => Buffer("running_var");

    /// <summary>Training batches seen.</summary>
    public Int64Buffer BatchesTracked { get; }

    /// <summary>
    /// How many identical time steps the input stands for (1 unless the layer is in a static prefix, see
    /// <see cref="Sequential.UseStaticPrefix"/>): the unbiased running variance then counts them all.
    /// </summary>
    public int Replicas { get; set; } = 1;

    /// <summary>Whether an input of <paramref name="rank"/> axes (time and batch included) is one this norm takes.</summary>
    private protected abstract bool AcceptsRank(int rank);

    /// <summary>The input shapes this norm takes, for error messages.</summary>
    private protected abstract string ExpectedShape { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, …]</c> with the layer's channels and rank.</exception>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.Shape;
        if (!AcceptsRank(shape.Rank) || shape[2] != Channels)
        {
            throw new ArgumentException($"{GetType().Name}({Channels}) needs an input of {ExpectedShape}; it has shape {shape}.", nameof(input));
        }
        var dims = shape.Dimensions.ToArray();
        var foldedDims = new int[dims.Length - 1];
        foldedDims[0] = dims[0] * dims[1];
        Array.Copy(dims, 2, foldedDims, 1, dims.Length - 2);
        var folded = Functional.Reshape(input, foldedDims);
        var y = Functional.BatchNorm(folded, Weight, Bias, RunningMean, RunningVar, Training, Momentum, Eps, Replicas);
        if (Training) BatchesTracked.Value++;
        return Functional.Reshape(y, dims);
    }
}

/// <summary>Batch norm over <c>[T, B, C]</c> or <c>[T, B, C, L]</c> (SpikingJelly's <c>layer.BatchNorm1d</c>).</summary>
public sealed class BatchNorm1d : BatchNorm
{
    /// <summary>A batch norm over <paramref name="channels"/> channels with PyTorch's defaults.</summary>
    public BatchNorm1d(int channels, double eps = 1e-5, double momentum = 0.1) : base(channels, eps, momentum)
    {
    }

    private protected override bool AcceptsRank(int rank) => rank is 3 or 4;

    private protected override string ExpectedShape => $"[T, B, {Channels}] or [T, B, {Channels}, L]";
}

/// <summary>Batch norm over <c>[T, B, C, H, W]</c> (SpikingJelly's <c>layer.BatchNorm2d</c>).</summary>
public sealed class BatchNorm2d : BatchNorm
{
    /// <summary>A batch norm over <paramref name="channels"/> channels with PyTorch's defaults.</summary>
    public BatchNorm2d(int channels, double eps = 1e-5, double momentum = 0.1) : base(channels, eps, momentum)
    {
    }

    private protected override bool AcceptsRank(int rank) => rank == 5;

    private protected override string ExpectedShape => $"[T, B, {Channels}, H, W]";
}
