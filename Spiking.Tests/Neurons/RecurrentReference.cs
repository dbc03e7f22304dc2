using System;
using System.Collections.Generic;
using System.Numerics;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;

namespace Spiking.Tests.Neurons;

/// <summary>One neuron's run in double precision: spikes, named traces, the surrogate's argument and <c>dL/dx</c>, per step.</summary>
public sealed class ScalarRun
{
    public required bool[] S { get; init; }
    public required Dictionary<string, double[]> Traces { get; init; }

    /// <summary><c>u_t = h_t − θ_t</c>, the value the spike thresholds at 0 (its distance from 0 is the decision margin).</summary>
    public required double[] U { get; init; }
    public required double[] GradX { get; init; }
}

/// <summary>What the reference computes for a whole <c>[T, …]</c> problem.</summary>
public sealed class RecurrentReferenceRun
{
    public required bool[] S { get; init; }
    public required Dictionary<string, double[]> Traces { get; init; }
    public required double[] GradX { get; init; }

    /// <summary>
    /// How far the same reference computed in float32 arithmetic strays from this one, as an envelope over the steps
    /// so far (a float32 error does not shrink by luck at one step): small where the dynamics contract (LIF-like),
    /// larger where they amplify rounding (a quadratic or exponential charge well above v_c or θ_rh).
    /// </summary>
    public required Dictionary<string, double[]> TraceSpread { get; init; }

    /// <summary>The same for <c>dL/dx</c>, the largest over the neuron's steps (its error comes from the forward's states and the backward's sums alike).</summary>
    public required double[] GradXSpread { get; init; }

    /// <summary>The smallest |h − θ| seen (in the double and the float32 run), so a test can tell that float rounding cannot flip a spike.</summary>
    public required double Margin { get; init; }
}

/// <summary>
/// Naive references of QIF, EIF, Izhikevich, the adaptive LIF and the current-based LIF, written straight from the
/// equations (SpikingJelly's code and the golden README for the first three, the model docs for the last two): each
/// walks one neuron forward step by step with <c>if</c>s for the spike and the reset, then back through time with the
/// chain rule written out by hand, <c>dL/dstate</c> carried from step to step. They share nothing with the engine but
/// the surrogate formulas of <see cref="NeuronReference.SurrogateDerivative"/>. Each is generic over the number type:
/// the double run is the reference, the float32 run measures how far float32 arithmetic can drift on that trajectory
/// (time constants enter as rates <c>1/τ</c>, so the float32 run carries the same rounded constants as the kernel:
/// where the dynamics amplify, a constant's rounding is a bias that grows every step).
/// </summary>
public static class RecurrentReference
{
    /// <summary>Runs <paramref name="model"/> over <paramref name="x"/> <c>[steps, perStep]</c> with upstream gradient <paramref name="g"/> of the spikes.</summary>
    public static RecurrentReferenceRun Run(NeuronModel model, float[] x, float[] g, int steps)
    {
        int m = steps == 0 ? 0 : x.Length / steps;
        var s = new bool[x.Length];
        var gx = new double[x.Length];
        var gxSpread = new double[x.Length];
        var traces = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var spread = new Dictionary<string, double[]>(StringComparer.Ordinal);
        double margin = double.PositiveInfinity;
        var xs = new double[steps];
        var gs = new double[steps];
        for (int i = 0; i < m; i++)
        {
            for (int t = 0; t < steps; t++)
            {
                xs[t] = x[t * m + i];
                gs[t] = g[t * m + i];
            }
            var run = Neuron<double>(model, xs, gs);
            var single = Neuron<float>(model, xs, gs);
            foreach (var (name, values) in run.Traces)
            {
                if (!traces.TryGetValue(name, out var all))
                {
                    traces[name] = all = new double[x.Length];
                    spread[name] = new double[x.Length];
                }
                double envelope = 0;
                for (int t = 0; t < steps; t++)
                {
                    all[t * m + i] = values[t];
                    envelope = Math.Max(envelope, Math.Abs(values[t] - single.Traces[name][t]));
                    spread[name][t * m + i] = envelope;
                }
            }
            double gradEnvelope = 0;
            for (int t = 0; t < steps; t++) gradEnvelope = Math.Max(gradEnvelope, Math.Abs(run.GradX[t] - single.GradX[t]));
            for (int t = 0; t < steps; t++)
            {
                s[t * m + i] = run.S[t];
                gx[t * m + i] = run.GradX[t];
                gxSpread[t * m + i] = gradEnvelope;
                margin = Math.Min(margin, Math.Min(Math.Abs(run.U[t]), Math.Abs(single.U[t])));
            }
        }
        return new RecurrentReferenceRun { S = s, Traces = traces, GradX = gx, TraceSpread = spread, GradXSpread = gxSpread, Margin = margin };
    }

    /// <summary>
    /// Nudges <paramref name="x"/> until every <c>|h − θ|</c> is at least <paramref name="margin"/> (as the golden
    /// generator did) in double and in float32, and as far from the jumps of a piecewise surrogate, so float32
    /// rounding cannot flip a spike or pick another piece; and lowers the input where <c>h</c> passes
    /// <see cref="Runaway"/>, since a QIF or EIF neuron whose soft reset leaves it far above <c>v_c</c> or <c>θ_rh</c>
    /// blows up within a few steps (to infinity for EIF), where float32 and double part ways.
    /// </summary>
    public static void EnsureMargin(NeuronModel model, float[] x, int steps, double margin = 1e-3)
    {
        int m = steps == 0 ? 0 : x.Length / steps;
        double jump = model.Surrogate switch
        {
            PiecewiseLeakyReLU p => p.W,
            Rect r => 0.5 / r.Alpha,
            _ => double.NaN,
        };
        bool Near(double u) => Math.Abs(u) < margin || Math.Abs(Math.Abs(u) - jump) < margin;
        var xs = new double[steps];
        var zeros = new double[steps];
        for (int i = 0; i < m; i++)
        {
            for (int attempt = 0; attempt < 1000; attempt++)
            {
                for (int t = 0; t < steps; t++) xs[t] = x[t * m + i];
                var u = Neuron<double>(model, xs, zeros).U;
                var single = Neuron<float>(model, xs, zeros).U;
                int high = Array.FindIndex(u, d => !(d < Runaway));
                if (high >= 0)
                {
                    x[high * m + i] -= 0.1f;
                    continue;
                }
                int bad = Array.FindIndex(u, Near), badSingle = Array.FindIndex(single, Near);
                if (bad < 0 || (badSingle >= 0 && badSingle < bad)) bad = badSingle;
                if (bad < 0) break;
                x[bad * m + i] += 0.01f;
            }
        }
    }

    /// <summary>How far above the threshold the test inputs may drive <c>h</c>.</summary>
    public const double Runaway = 3;

    /// <summary>One neuron of <paramref name="model"/> over the inputs <paramref name="x"/> with upstream gradient <paramref name="g"/>, in <typeparamref name="T"/> arithmetic.</summary>
    public static ScalarRun Neuron<T>(NeuronModel model, double[] x, double[] g) where T : IFloatingPointIeee754<T> => model switch
    {
        QifNeuron q => Qif<T>(q, x, g),
        EifNeuron e => Eif<T>(e, x, g),
        IzhikevichNeuron z => Izhikevich<T>(z, x, g),
        AdaptiveLifNeuron a => AdaptiveLif<T>(a, x, g),
        CubaLifNeuron c => CubaLif<T>(c, x, g),
        _ => throw new ArgumentException($"no reference for {model}", nameof(model)),
    };

    private static T N<T>(double value) where T : IFloatingPointIeee754<T> => T.CreateChecked(value);

    /// <summary>hard: <c>s ? v_reset : h</c>; soft: <c>s ? h − θ : h</c>.</summary>
    private static T Reset<T>(ThresholdNeuron model, T h, bool s, T theta) where T : IFloatingPointIeee754<T> =>
        !s ? h : model.VReset is { } vr ? N<T>(vr) : h - theta;

    /// <summary>dv/dh of the reset of <see cref="ThresholdNeuron"/> for a spike of surrogate slope <paramref name="sg"/> at h.</summary>
    private static T ResetSlope<T>(ThresholdNeuron model, T h, bool s, T sg) where T : IFloatingPointIeee754<T>
    {
        T spike = s ? T.One : T.Zero;
        if (model.VReset is { } vr) return (T.One - spike) + (model.DetachReset ? T.Zero : (N<T>(vr) - h) * sg);
        return T.One - (model.DetachReset ? T.Zero : N<T>(model.VThreshold) * sg);
    }

    private static T Sg<T>(NeuronModel model, T u) where T : IFloatingPointIeee754<T> =>
        N<T>(NeuronReference.SurrogateDerivative(model.Surrogate!, double.CreateChecked(u)));

    private static ScalarRun Result<T>(bool[] s, T[] u, T[] gx, params (string Name, T[] Values)[] traces) where T : IFloatingPointIeee754<T>
    {
        var named = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (name, values) in traces) named[name] = Array.ConvertAll(values, double.CreateChecked);
        return new ScalarRun { S = s, U = Array.ConvertAll(u, double.CreateChecked), GradX = Array.ConvertAll(gx, double.CreateChecked), Traces = named };
    }

    /// <summary>QIF: <c>h = v + (x + a0(v − v_rest)(v − v_c))/τ</c>; <c>∂h/∂v = 1 + a0(2v − v_rest − v_c)/τ</c>.</summary>
    private static ScalarRun Qif<T>(QifNeuron model, double[] x, double[] g) where T : IFloatingPointIeee754<T>
    {
        int steps = x.Length;
        T theta = N<T>(model.VThreshold), k = T.One / N<T>(model.Tau), a0 = N<T>(model.A0), vRest = N<T>(model.VRest), vC = N<T>(model.VC), rest = N<T>(model.ResetPotential);
        var (h, v, s, u) = (new T[steps], new T[steps], new bool[steps], new T[steps]);
        T state = rest;
        for (int t = 0; t < steps; t++)
        {
            h[t] = state + (N<T>(x[t]) + a0 * (state - vRest) * (state - vC)) * k;
            u[t] = h[t] - theta;
            s[t] = h[t] >= theta;
            v[t] = state = Reset(model, h[t], s[t], theta);
        }
        var gx = new T[steps];
        T gv = T.Zero;
        for (int t = steps - 1; t >= 0; t--)
        {
            T sg = Sg(model, u[t]);
            T gh = N<T>(g[t]) * sg + gv * ResetSlope(model, h[t], s[t], sg);
            T before = t == 0 ? rest : v[t - 1];
            gx[t] = gh * k;
            gv = gh * (T.One + a0 * ((before - vRest) + (before - vC)) * k);
        }
        return Result(s, u, gx, ("h", h), ("v", v));
    }

    /// <summary>EIF: <c>h = v + (x + v_rest − v + Δ_T·exp((v − θ_rh)/Δ_T))/τ</c>; <c>∂h/∂v = 1 + (exp(…) − 1)/τ</c>.</summary>
    private static ScalarRun Eif<T>(EifNeuron model, double[] x, double[] g) where T : IFloatingPointIeee754<T>
    {
        int steps = x.Length;
        T theta = N<T>(model.VThreshold), k = T.One / N<T>(model.Tau), dT = N<T>(model.DeltaT), inverseDT = T.One / dT, thetaRh = N<T>(model.ThetaRh), vRest = N<T>(model.VRest);
        T rest = N<T>(model.ResetPotential);
        var (h, v, s, u) = (new T[steps], new T[steps], new bool[steps], new T[steps]);
        T state = rest;
        for (int t = 0; t < steps; t++)
        {
            h[t] = state + (N<T>(x[t]) + vRest - state + dT * T.Exp((state - thetaRh) * inverseDT)) * k;
            u[t] = h[t] - theta;
            s[t] = h[t] >= theta;
            v[t] = state = Reset(model, h[t], s[t], theta);
        }
        var gx = new T[steps];
        T gv = T.Zero;
        for (int t = steps - 1; t >= 0; t--)
        {
            T sg = Sg(model, u[t]);
            T gh = N<T>(g[t]) * sg + gv * ResetSlope(model, h[t], s[t], sg);
            T before = t == 0 ? rest : v[t - 1];
            gx[t] = gh * k;
            gv = gh * (T.One + (T.Exp((before - thetaRh) * inverseDT) - T.One) * k);
        }
        return Result(s, u, gx, ("h", h), ("v", v));
    }

    /// <summary>
    /// Izhikevich, SpikingJelly's <c>izhikevich_step</c>: hard <c>v = (1 − s′)h + s·v_reset</c> (so with detach the
    /// slope is <c>(1 − s) + v_reset·sg</c>), soft <c>v = h − s′θ</c>, and <c>w = w + (a(h − v_rest) − w)/τ_w + b·s</c>
    /// on the undetached spike.
    /// </summary>
    private static ScalarRun Izhikevich<T>(IzhikevichNeuron model, double[] x, double[] g) where T : IFloatingPointIeee754<T>
    {
        int steps = x.Length;
        T theta = N<T>(model.VThreshold), k = T.One / N<T>(model.Tau), a0 = N<T>(model.A0), vRest = N<T>(model.VRest), vC = N<T>(model.VC);
        T kW = T.One / N<T>(model.TauW), a = N<T>(model.A), b = N<T>(model.B), rest = N<T>(model.ResetPotential);
        var (h, v, w, s, u) = (new T[steps], new T[steps], new T[steps], new bool[steps], new T[steps]);
        T vs = rest, ws = N<T>(model.WRest);
        for (int t = 0; t < steps; t++)
        {
            h[t] = vs + (N<T>(x[t]) + a0 * (vs - vRest) * (vs - vC) - ws) * k;
            u[t] = h[t] - theta;
            s[t] = h[t] >= theta;
            v[t] = vs = Reset(model, h[t], s[t], theta);
            w[t] = ws = ws + (a * (h[t] - vRest) - ws) * kW + (s[t] ? b : T.Zero);
        }
        var gx = new T[steps];
        T gv = T.Zero, gw = T.Zero;
        for (int t = steps - 1; t >= 0; t--)
        {
            T sg = Sg(model, u[t]);
            T spike = s[t] ? T.One : T.Zero;
            T dvdh = model.VReset is { } vr
                ? (T.One - spike) + N<T>(vr) * sg - (model.DetachReset ? T.Zero : h[t] * sg)
                : T.One - (model.DetachReset ? T.Zero : theta * sg);
            T gh = N<T>(g[t]) * sg + gv * dvdh + gw * (a * kW + b * sg);
            T before = t == 0 ? rest : v[t - 1];
            gx[t] = gh * k;
            gv = gh * (T.One + a0 * ((before - vRest) + (before - vC)) * k);
            gw = gw * (T.One - kW) - gh * k;
        }
        return Result(s, u, gx, ("h", h), ("v", v), ("w", w));
    }

    /// <summary>
    /// The adaptive LIF: LIF charge, <c>θ_t = v_threshold + β·a_{t−1}</c>, the reset with the baseline threshold,
    /// <c>a_t = ρ·a_{t−1} + s_t</c>. Backward through the spike's total gradient <c>dL/ds</c> (output, adaptation, and
    /// the reset unless detached): <c>dL/dh = dL/ds·sg + dL/dv·∂v/∂h</c>, <c>dL/da_{t−1} = ρ·dL/da_t − β·sg·dL/ds</c>.
    /// </summary>
    private static ScalarRun AdaptiveLif<T>(AdaptiveLifNeuron model, double[] x, double[] g) where T : IFloatingPointIeee754<T>
    {
        int steps = x.Length;
        T vth = N<T>(model.VThreshold), k = T.One / N<T>(model.Tau), rho = N<T>(model.Rho), beta = N<T>(model.Beta), vr = N<T>(model.ResetPotential);
        bool hard = model.VReset is not null;
        var (h, v, a, theta, s, u) = (new T[steps], new T[steps], new T[steps], new T[steps], new bool[steps], new T[steps]);
        T vs = vr, adaptation = T.Zero;
        for (int t = 0; t < steps; t++)
        {
            T xt = N<T>(x[t]);
            h[t] = model.DecayInput ? vs + (xt - (vs - vr)) * k : vs - (vs - vr) * k + xt;
            theta[t] = vth + beta * adaptation;
            u[t] = h[t] - theta[t];
            s[t] = h[t] >= theta[t];
            v[t] = vs = Reset(model, h[t], s[t], vth);
            a[t] = adaptation = rho * adaptation + (s[t] ? T.One : T.Zero);
        }
        var gx = new T[steps];
        T gv = T.Zero, ga = T.Zero;
        for (int t = steps - 1; t >= 0; t--)
        {
            T sg = Sg(model, u[t]);
            T dvds = model.DetachReset ? T.Zero : hard ? vr - h[t] : -vth;
            T dvdh = hard && s[t] ? T.Zero : T.One;
            T gs = N<T>(g[t]) + ga + gv * dvds;
            T gh = gs * sg + gv * dvdh;
            gx[t] = model.DecayInput ? gh * k : gh;
            gv = gh * (T.One - k);
            ga = ga * rho - beta * sg * gs;
        }
        return Result(s, u, gx, ("h", h), ("theta", theta), ("v", v), ("a", a));
    }

    /// <summary>
    /// The current-based LIF: <c>i_t = i + (x − i)/τ_syn</c>, <c>h = v + (v_leak − v + r·i_t)/τ_mem</c>. Backward:
    /// the current after the step collects <c>dL/di_t + dL/dh·r/τ_mem</c>; <c>dL/dx</c> is that over τ_syn.
    /// </summary>
    private static ScalarRun CubaLif<T>(CubaLifNeuron model, double[] x, double[] g) where T : IFloatingPointIeee754<T>
    {
        int steps = x.Length;
        T theta = N<T>(model.VThreshold), kSyn = T.One / N<T>(model.TauSyn), kMem = T.One / N<T>(model.TauMem), r = N<T>(model.R), vLeak = N<T>(model.VLeak);
        var (h, v, current, s, u) = (new T[steps], new T[steps], new T[steps], new bool[steps], new T[steps]);
        T vs = N<T>(model.ResetPotential), i = T.Zero;
        for (int t = 0; t < steps; t++)
        {
            current[t] = i = i + (N<T>(x[t]) - i) * kSyn;
            h[t] = vs + (vLeak - vs + r * i) * kMem;
            u[t] = h[t] - theta;
            s[t] = h[t] >= theta;
            v[t] = vs = Reset(model, h[t], s[t], theta);
        }
        var gx = new T[steps];
        T gv = T.Zero, gi = T.Zero;
        for (int t = steps - 1; t >= 0; t--)
        {
            T sg = Sg(model, u[t]);
            T gh = N<T>(g[t]) * sg + gv * ResetSlope(model, h[t], s[t], sg);
            T giNow = gi + gh * r * kMem;
            gx[t] = giNow * kSyn;
            gv = gh * (T.One - kMem);
            gi = giNow * (T.One - kSyn);
        }
        return Result(s, u, gx, ("h", h), ("v", v), ("i", current));
    }
}
