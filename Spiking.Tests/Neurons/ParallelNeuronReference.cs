using System;
using Spiking.Autograd.Surrogates;

namespace Spiking.Tests.Neurons;

/// <summary>The three parallel spiking neurons of SpikingJelly.</summary>
public enum ParallelKind
{
    Psn,
    Masked,
    Sliding,
}

/// <summary>What the double-precision reference computes for one parallel spiking neuron problem.</summary>
public sealed class ParallelReferenceRun
{
    public required double[] Matrix { get; init; }
    public required double[] H { get; init; }
    public required bool[] S { get; init; }
    public required double[] GradX { get; init; }

    /// <summary><c>dL/dweight</c> in the weight's layout, and per element the sum of |terms| as its error scale.</summary>
    public required double[] GradWeight { get; init; }
    public required double[] GradWeightScale { get; init; }

    /// <summary><c>dL/dbias</c> in the bias's layout, and its error scale.</summary>
    public required double[] GradBias { get; init; }
    public required double[] GradBiasScale { get; init; }
}

/// <summary>What the double-precision reference computes for one few-spikes problem.</summary>
public sealed class FewSpikeReferenceRun
{
    public required double[] Gate { get; init; }
    public required double[] U { get; init; }
    public required bool[] Z { get; init; }
    public required double[] Y { get; init; }
    public required double[] GradX { get; init; }
}

/// <summary>
/// Naive double-precision parallel spiking neurons and few-spikes coding, written straight from the golden README's
/// equations with loops over every index, and their backward written out by hand: the effective matrix per class
/// (PSN's W, MaskedPSN's <c>W·(λ·M0 + 1 − λ)</c> or <c>W·M0</c>, SlidingPSN's band), <c>H = W·X + b</c>, the spike
/// <c>H ≥ 0</c>, then <c>dL/dH = G·g'(H)</c>, <c>dL/dX = Wᵀ·dL/dH</c>, <c>dL/dW = dL/dH·Xᵀ</c> mapped back to the
/// class's own parameters; few-spikes forward over K steps and back again with <c>dL/du</c> carried.
/// </summary>
public static class ParallelNeuronReference
{
    /// <summary>The effective <c>[T, T]</c> matrix of <paramref name="kind"/> for <paramref name="weight"/> (<c>[T, T]</c>, or <c>[k]</c> for SlidingPSN).</summary>
    public static double[] Matrix(ParallelKind kind, float[] weight, int steps, int order, double lambda)
    {
        var m = new double[steps * steps];
        for (int i = 0; i < steps; i++)
        {
            for (int j = 0; j < steps; j++)
            {
                m[i * steps + j] = kind switch
                {
                    ParallelKind.Psn => weight[i * steps + j],
                    ParallelKind.Masked => weight[i * steps + j] * MaskFactor(i, j, order, lambda),
                    _ => i - j >= 0 && i - j < weight.Length ? weight[weight.Length - 1 - (i - j)] : 0.0,
                };
            }
        }
        return m;
    }

    /// <summary>MaskedPSN's factor: 1 on the band <c>j ≤ i ≤ j + k − 1</c>, 0 off it once λ ≥ 1, and <c>λ·M0 + 1 − λ</c> below.</summary>
    public static double MaskFactor(int i, int j, int order, double lambda)
    {
        double band = j <= i && i <= j + order - 1 ? 1.0 : 0.0;
        return lambda >= 1 ? band : lambda * band + (1 - lambda);
    }

    /// <summary>The pre-spike values of one column <paramref name="n"/> of <paramref name="x"/> <c>[T, N]</c>.</summary>
    public static double H(double[] matrix, float[] bias, float[] x, int steps, int n, int t)
    {
        int columns = x.Length / steps;
        double h = bias.Length == 1 ? bias[0] : bias[t];
        for (int j = 0; j < steps; j++) h += matrix[t * steps + j] * x[j * columns + n];
        return h;
    }

    /// <summary>Runs the class over <paramref name="x"/> <c>[T, N]</c> with upstream gradient <paramref name="g"/>.</summary>
    public static ParallelReferenceRun Run(ParallelKind kind, float[] weight, float[] bias, int order, double lambda, Surrogate surrogate, float[] x, float[] g, int steps)
    {
        int columns = x.Length / steps;
        var m = Matrix(kind, weight, steps, order, lambda);
        var h = new double[x.Length];
        var s = new bool[x.Length];
        for (int t = 0; t < steps; t++)
        {
            for (int n = 0; n < columns; n++)
            {
                h[t * columns + n] = H(m, bias, x, steps, n, t);
                s[t * columns + n] = h[t * columns + n] >= 0;
            }
        }
        var gh = new double[x.Length];
        for (int e = 0; e < x.Length; e++) gh[e] = g[e] * NeuronReference.SurrogateDerivative(surrogate, h[e]);
        var gx = new double[x.Length];
        for (int j = 0; j < steps; j++)
        {
            for (int n = 0; n < columns; n++)
            {
                double sum = 0;
                for (int t = 0; t < steps; t++) sum += m[t * steps + j] * gh[t * columns + n];
                gx[j * columns + n] = sum;
            }
        }
        var gm = new double[steps * steps];
        var gmScale = new double[steps * steps];
        var gb = new double[steps];
        var gbScale = new double[steps];
        for (int t = 0; t < steps; t++)
        {
            for (int n = 0; n < columns; n++)
            {
                gb[t] += gh[t * columns + n];
                gbScale[t] += Math.Abs(gh[t * columns + n]);
                for (int j = 0; j < steps; j++)
                {
                    double term = gh[t * columns + n] * x[j * columns + n];
                    gm[t * steps + j] += term;
                    gmScale[t * steps + j] += Math.Abs(term);
                }
            }
        }
        var (gw, gwScale) = WeightGradient(kind, gm, gmScale, weight.Length, steps, order, lambda);
        double[] gBias = gb, gBiasScale = gbScale;
        if (kind == ParallelKind.Sliding)
        {
            gBias = [Sum(gb)];
            gBiasScale = [Sum(gbScale)];
        }
        return new ParallelReferenceRun { Matrix = m, H = h, S = s, GradX = gx, GradWeight = gw, GradWeightScale = gwScale, GradBias = gBias, GradBiasScale = gBiasScale };
    }

    /// <summary>The smallest distance of any <c>H</c> from 0 or from a jump of the surrogate, over column <paramref name="n"/>.</summary>
    public static double ColumnMargin(double[] matrix, float[] bias, float[] x, int steps, int n, Surrogate surrogate)
    {
        double jump = Jump(surrogate), margin = double.PositiveInfinity;
        for (int t = 0; t < steps; t++)
        {
            double h = Math.Abs(H(matrix, bias, x, steps, n, t));
            margin = Math.Min(margin, Math.Min(h, double.IsNaN(jump) ? double.PositiveInfinity : Math.Abs(h - jump)));
        }
        return margin;
    }

    /// <summary>Few-spikes coding over <paramref name="x"/> <c>[K, N]</c> with upstream gradient <paramref name="g"/>.</summary>
    public static FewSpikeReferenceRun FewSpike(float[] theta, float[] h, float[] d, Surrogate surrogate, float[] x, float[] g)
    {
        int k = theta.Length, columns = x.Length / k;
        var gate = new double[columns];
        var u = new double[x.Length];
        var z = new bool[x.Length];
        var y = new double[x.Length];
        var gx = new double[x.Length];
        for (int n = 0; n < columns; n++)
        {
            for (int t = 0; t < k; t++) gate[n] += x[t * columns + n];
            double potential = gate[n];
            for (int step = 0; step < k; step++)
            {
                int e = step * columns + n;
                u[e] = potential;
                z[e] = potential - theta[step] >= 0;
                y[e] = z[e] ? d[step] : 0.0;
                if (z[e]) potential -= h[step];
            }
            double gu = 0; // dL/du_{k+1}
            for (int step = k - 1; step >= 0; step--)
            {
                int e = step * columns + n;
                double gz = g[e] * d[step] - h[step] * gu;
                gu += gz * NeuronReference.SurrogateDerivative(surrogate, u[e] - theta[step]);
            }
            for (int t = 0; t < k; t++) gx[t * columns + n] = gu;
        }
        return new FewSpikeReferenceRun { Gate = gate, U = u, Z = z, Y = y, GradX = gx };
    }

    /// <summary>The smallest distance of any <c>u_k − θ_k</c> from 0 or from a jump of the surrogate, over column <paramref name="n"/>.</summary>
    public static double FewSpikeMargin(float[] theta, float[] h, float[] x, int n, Surrogate surrogate)
    {
        int k = theta.Length, columns = x.Length / k;
        double potential = 0, jump = Jump(surrogate), margin = double.PositiveInfinity;
        for (int t = 0; t < k; t++) potential += x[t * columns + n];
        for (int step = 0; step < k; step++)
        {
            double distance = Math.Abs(potential - theta[step]);
            margin = Math.Min(margin, Math.Min(distance, double.IsNaN(jump) ? double.PositiveInfinity : Math.Abs(distance - jump)));
            if (potential >= theta[step]) potential -= h[step];
        }
        return margin;
    }

    private static (double[] Gradient, double[] Scale) WeightGradient(ParallelKind kind, double[] gm, double[] gmScale, int length, int steps, int order, double lambda)
    {
        var gw = new double[length];
        var scale = new double[length];
        for (int i = 0; i < steps; i++)
        {
            for (int j = 0; j < steps; j++)
            {
                switch (kind)
                {
                    case ParallelKind.Psn:
                        gw[i * steps + j] = gm[i * steps + j];
                        scale[i * steps + j] = gmScale[i * steps + j];
                        break;
                    case ParallelKind.Masked:
                        double f = MaskFactor(i, j, order, lambda);
                        gw[i * steps + j] = gm[i * steps + j] * f;
                        scale[i * steps + j] = gmScale[i * steps + j] * Math.Abs(f);
                        break;
                    default:
                        if (i - j < 0 || i - j >= length) break;
                        gw[length - 1 - (i - j)] += gm[i * steps + j];
                        scale[length - 1 - (i - j)] += gmScale[i * steps + j];
                        break;
                }
            }
        }
        return (gw, scale);
    }

    /// <summary>Where a piecewise surrogate jumps (|x| = w for PiecewiseLeakyReLU, 0.5/alpha for Rect); NaN for the continuous ones.</summary>
    private static double Jump(Surrogate surrogate) => surrogate switch
    {
        PiecewiseLeakyReLU p => p.W,
        Rect r => 0.5 / r.Alpha,
        _ => double.NaN,
    };

    private static double Sum(double[] values)
    {
        double sum = 0;
        foreach (double v in values) sum += v;
        return sum;
    }
}
