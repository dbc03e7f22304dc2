using System;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;

namespace Spiking.Tests.Neurons;

/// <summary>What the double-precision reference computes for one multi-step neuron problem.</summary>
public sealed class NeuronReferenceRun
{
    public required double[] H { get; init; }
    public required double[] V { get; init; }
    public required bool[] S { get; init; }
    public required double[] GradX { get; init; }

    /// <summary><c>dL/dw</c> of the parametric LIF (0 otherwise), and the sum of |terms| as its error scale.</summary>
    public double GradW { get; init; }
    public double GradWScale { get; init; }

    /// <summary>The smallest |h − θ| seen, so a test can tell that float rounding cannot flip a spike.</summary>
    public double Margin { get; init; }
}

/// <summary>
/// A naive double-precision multi-step neuron and its backward through time, written straight from the golden
/// README's equations: forward step by step with <c>if</c>s for the spike and the reset, then the chain rule walked
/// backwards with <c>dL/dv</c> carried from step to step. The surrogates are re-derived here from SpikingJelly's
/// formulas (a user-defined surrogate falls back to its own <c>Derivative</c>).
/// </summary>
public static class NeuronReference
{
    /// <summary>Runs <paramref name="options"/> over <paramref name="x"/> <c>[steps, perStep]</c> with upstream gradient <paramref name="g"/>.</summary>
    public static NeuronReferenceRun Run(ThresholdNeuron options, double w, float[] x, float[] g, int steps)
    {
        int m = x.Length / steps;
        double theta = options.VThreshold;
        bool hard = options.VReset is not null;
        double vr = options.VReset ?? 0.0;
        var kind = TestNeurons.KindOf(options);
        bool decayInput = TestNeurons.DecayInput(options);
        var surrogate = options.Surrogate!;
        double k = kind switch
        {
            LifKind.IntegrateAndFire => double.NaN,
            LifKind.LeakyIntegrateAndFire => 1.0 / TestNeurons.Tau(options),
            _ => 1.0 / (1.0 + Math.Exp(-w)),
        };
        var h = new double[x.Length];
        var v = new double[x.Length];
        var s = new bool[x.Length];
        double margin = double.PositiveInfinity;
        for (int i = 0; i < m; i++)
        {
            double state = vr;
            for (int t = 0; t < steps; t++)
            {
                int e = t * m + i;
                double hv = Charge(options, state, x[e], k, vr);
                bool spike = hv - theta >= 0;
                margin = Math.Min(margin, Math.Abs(hv - theta));
                state = hard ? (spike ? vr : hv) : (spike ? hv - theta : hv);
                h[e] = hv;
                v[e] = state;
                s[e] = spike;
            }
        }

        var gx = new double[x.Length];
        double gk = 0, gkScale = 0;
        for (int i = 0; i < m; i++)
        {
            double gv = 0; // dL/dv_t flowing back from step t+1
            for (int t = steps - 1; t >= 0; t--)
            {
                int e = t * m + i;
                double sg = SurrogateDerivative(surrogate, h[e] - theta);
                double spike = s[e] ? 1 : 0;
                double dvdh = hard
                    ? (1 - spike) + (options.DetachReset ? 0 : (vr - h[e]) * sg)
                    : 1 - (options.DetachReset ? 0 : theta * sg);
                double gh = g[e] * sg + gv * dvdh;
                double vPrevious = t == 0 ? vr : v[e - m];
                switch (kind)
                {
                    case LifKind.IntegrateAndFire:
                        gx[e] = gh;
                        gv = gh;
                        break;
                    default:
                        gx[e] = decayInput ? gh * k : gh;
                        gv = gh * (1 - k);
                        double dhdk = decayInput ? x[e] - (vPrevious - vr) : -(vPrevious - vr);
                        gk += gh * dhdk;
                        gkScale += Math.Abs(gh * dhdk);
                        break;
                }
            }
        }
        bool parametric = kind == LifKind.ParametricLeakyIntegrateAndFire;
        return new NeuronReferenceRun
        {
            H = h,
            V = v,
            S = s,
            GradX = gx,
            GradW = parametric ? gk * k * (1 - k) : 0,
            GradWScale = parametric ? gkScale * k * (1 - k) : 0,
            Margin = margin,
        };
    }

    /// <summary>
    /// Nudges <paramref name="x"/> until every pre-reset potential is at least <paramref name="margin"/> from the
    /// threshold (as the golden generator did), so float32 rounding cannot flip a spike, and as far from the jumps of
    /// a piecewise surrogate (<c>|h − θ| = w</c> for PiecewiseLeakyReLU, <c>0.5/alpha</c> for Rect), where float32 and
    /// double could pick different pieces.
    /// </summary>
    public static void EnsureMargin(ThresholdNeuron options, double w, float[] x, int steps, double margin = 1e-3)
    {
        int m = x.Length / steps;
        double theta = options.VThreshold, vr = options.VReset ?? 0.0;
        bool hard = options.VReset is not null;
        double k = options is LifNeuron lif ? 1.0 / lif.Tau : 1.0 / (1.0 + Math.Exp(-w));
        double jump = options.Surrogate switch
        {
            PiecewiseLeakyReLU p => p.W,
            Rect r => 0.5 / r.Alpha,
            _ => double.NaN,
        };
        for (int i = 0; i < m; i++)
        {
            for (int attempt = 0; attempt < 1000; attempt++)
            {
                double state = vr;
                int bad = -1;
                for (int t = 0; t < steps && bad < 0; t++)
                {
                    int e = t * m + i;
                    double hv = Charge(options, state, x[e], k, vr);
                    double distance = Math.Abs(hv - theta);
                    if (distance < margin || Math.Abs(distance - jump) < margin) bad = e;
                    bool spike = hv >= theta;
                    state = hard ? (spike ? vr : hv) : (spike ? hv - theta : hv);
                }
                if (bad < 0) break;
                x[bad] += 0.01f;
            }
        }
    }

    /// <summary>The surrogate derivative in double, from SpikingJelly's formulas.</summary>
    public static double SurrogateDerivative(Surrogate surrogate, double x)
    {
        var p = surrogate.Parameters;
        switch (surrogate.Name)
        {
            case "Sigmoid":
            {
                double a = p["alpha"], sig = 1 / (1 + Math.Exp(-a * x));
                return a * sig * (1 - sig);
            }
            case "ATan":
            {
                double a = p["alpha"], u = Math.PI / 2 * a * x;
                return a / 2 / (1 + u * u);
            }
            case "PiecewiseQuadratic":
            {
                double a = p["alpha"];
                return Math.Abs(x) <= 1 / a ? a - a * a * Math.Abs(x) : 0;
            }
            case "SoftSign":
            {
                double a = p["alpha"], u = 1 / a + Math.Abs(x);
                return 1 / (2 * a * u * u);
            }
            case "Erf":
            {
                double a = p["alpha"];
                return a / Math.Sqrt(Math.PI) * Math.Exp(-(a * x) * (a * x));
            }
            case "PiecewiseLeakyReLU":
                return Math.Abs(x) < p["w"] ? 1 / (2 * p["w"]) : p["c"];
            case "Rect":
                return Math.Abs(x) < 0.5 / p["alpha"] ? p["alpha"] : 0;
            default:
                return surrogate.Derivative((float)x);
        }
    }

    private static double Charge(ThresholdNeuron options, double v, double x, double k, double vr) => options switch
    {
        IFNeuron => v + x,
        _ when TestNeurons.DecayInput(options) => v + (x - (v - vr)) * k,
        _ => v - (v - vr) * k + x,
    };
}
