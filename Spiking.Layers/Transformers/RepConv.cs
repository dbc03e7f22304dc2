using System;
using Spiking.Autograd;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// Meta-SpikeFormer's re-parameterisable convolution (<c>RepConv</c>), the Q, K, V and output projection of its
/// attention: <c>body.0</c> a 1×1 convolution C → C without bias, <c>body.1</c> a <see cref="BatchNormAndPad"/> (its
/// one-pixel border the norm's response to zero), <c>body.2.0</c> a 3×3 depthwise convolution without padding,
/// <c>body.2.1</c> a 1×1 convolution C → O, <c>body.2.2</c> a batch norm, over <c>[T, B, C, H, W]</c> giving
/// <c>[T, B, O, H, W]</c>. In evaluation mode every step is affine per pixel and the border makes the padding come
/// before the norm, so the whole body is one 3×3 convolution with bias and padding 1 (<see cref="Fuse"/>).
/// </summary>
public sealed class RepConv : Module
{
    private readonly Sequential _body;

    /// <summary>A RepConv from <paramref name="inChannels"/> to <paramref name="outChannels"/> maps, its convolutions from <paramref name="layers"/> (default Meta-SpikeFormer's).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A channel count is not positive.</exception>
    public RepConv(int inChannels, int outChannels, MetaSpikeFormerLayers? layers = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        layers ??= MetaSpikeFormerLayers.Default;
        (InChannels, OutChannels) = (inChannels, outChannels);
        var pointwise = layers.Conv2d(new Conv2dSpec(inChannels, inChannels, 1));
        var norm = new BatchNormAndPad(inChannels, padding: 1);
        var spatial = layers.Conv2d(new Conv2dSpec(inChannels, inChannels, 3, Depthwise: true));
        var project = layers.Conv2d(new Conv2dSpec(inChannels, outChannels, 1));
        _body = RegisterModule("body", new Sequential(pointwise, norm, new Sequential(spatial, project, new BatchNorm2d(outChannels))));
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input is not <c>[T, B, C, H, W]</c> with C input channels.</exception>
    public override Variable Forward(Variable input) => _body.Forward(input);

    /// <summary>
    /// The one 3×3 convolution (padding 1, with bias, PyTorch's <c>weight [O, C, 3, 3]</c>) equal to this RepConv in
    /// evaluation mode, with the batch norm that follows it (the <c>nn.BatchNorm2d</c> of the attention's
    /// <c>q_conv</c>, <c>k_conv</c>, <c>v_conv</c> and <c>proj_conv</c>) folded in too when <paramref name="following"/>
    /// is given. With <c>a = γ/√(σ² + ε)</c> and <c>b = β − μ·a</c> for each norm (1 = the padded one, 2 = the body's
    /// last, 3 = the following), 1×1 weight W, depthwise filter D and projection P:
    /// <c>F[o, i] = a₃[o]·a₂[o]·Σ_c P[o, c]·a₁[c]·W[c, i]·D[c]</c> and
    /// <c>bias[o] = a₃[o]·(a₂[o]·Σ_c P[o, c]·b₁[c]·ΣD[c] + b₂[o]) + b₃[o]</c>, computed in double. The padded norm's
    /// border is <c>b₁</c>, its response to zero, which is why zero padding of the input is exact.
    /// </summary>
    /// <exception cref="InvalidOperationException">The body's convolutions are not the default <see cref="Conv2d"/> and <see cref="DepthwiseConv2d"/> (a quantized variant has no float fusion here).</exception>
    /// <exception cref="ArgumentException"><paramref name="following"/> does not have the output's channels.</exception>
    public Conv2d Fuse(BatchNorm2d? following = null)
    {
        if (_body[0] is not Conv2d pointwise || _body[2] is not Sequential tail || tail[0] is not DepthwiseConv2d spatial || tail[1] is not Conv2d project)
        {
            throw new InvalidOperationException($"RepConv.Fuse folds float Conv2d and DepthwiseConv2d layers; this RepConv holds {_body[0].GetType().Name}, {((Sequential)_body[2])[0].GetType().Name} and {((Sequential)_body[2])[1].GetType().Name}.");
        }
        if (following is not null && following.Channels != OutChannels)
        {
            throw new ArgumentException($"RepConv.Fuse: the following norm has {following.Channels} channels; this RepConv gives {OutChannels}.", nameof(following));
        }
        int c = InChannels, o = OutChannels;
        var padded = ((BatchNormAndPad)_body[1]).Norm;
        var (a1, b1) = Affine(padded);
        var (a2, b2) = Affine((BatchNorm2d)tail[2]);
        var (a3, b3) = following is null ? (Ones(o), new double[o]) : Affine(following);
        var w = Host(pointwise.Weight.Value);
        var d = Host(spatial.Weight.Value);
        var p = Host(project.Weight.Value);

        var fused = new Conv2d(c, o, 3, padding: 1, bias: true, generator: new PhiloxGenerator(0));
        var weight = fused.Weight.Value.AsSpan();
        var bias = fused.Bias!.Value.AsSpan();
        for (int oc = 0; oc < o; oc++)
        {
            double scale = a3[oc] * a2[oc], shift = 0;
            for (int k = 0; k < 9; k++)
            {
                for (int ic = 0; ic < c; ic++)
                {
                    double sum = 0;
                    for (int m = 0; m < c; m++) sum += p[oc * c + m] * a1[m] * w[m * c + ic] * d[m * 9 + k];
                    weight[(oc * c + ic) * 9 + k] = (float)(scale * sum);
                }
            }
            for (int m = 0; m < c; m++)
            {
                double filterSum = 0;
                for (int k = 0; k < 9; k++) filterSum += d[m * 9 + k];
                shift += p[oc * c + m] * b1[m] * filterSum;
            }
            bias[oc] = (float)(a3[oc] * (a2[oc] * shift + b2[oc]) + b3[oc]);
        }
        return fused;
    }

    private static (double[] Scale, double[] Shift) Affine(BatchNorm norm)
    {
        var mean = Host(norm.RunningMean);
        var variance = Host(norm.RunningVar);
        var gamma = Host(norm.Weight.Value);
        var beta = Host(norm.Bias.Value);
        var scale = new double[norm.Channels];
        var shift = new double[norm.Channels];
        for (int i = 0; i < scale.Length; i++)
        {
            scale[i] = gamma[i] / Math.Sqrt(variance[i] + norm.Eps);
            shift[i] = beta[i] - mean[i] * scale[i];
        }
        return (scale, shift);
    }

    private static double[] Ones(int count)
    {
        var ones = new double[count];
        Array.Fill(ones, 1.0);
        return ones;
    }

    private static double[] Host(Tensor tensor)
    {
        var values = tensor.ToArray();
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }
}
