using System;

namespace Spiking.Tests.Quantization;

/// <summary>
/// LSQ written out in double from the official code (<c>quan_w.py</c>), independent of the engine: the codes of
/// <c>Conv2dLSQ.forward</c> and the backward of <c>FunLSQ</c>, the official closed form of the same gradients.
/// </summary>
internal static class NaiveLsq
{
    public static (double Qn, double Qp) Range(int bits) => (-Math.Pow(2, bits - 1), Math.Pow(2, bits - 1) - 1);

    /// <summary>PyTorch's float32 <c>weight / alpha</c> (a double quotient of two floats rounds to the float quotient).</summary>
    public static double Quotient(float w, float alpha) => (float)((double)w / alpha);

    /// <summary><c>round(clamp(u, Qn, Qp))</c>, half to even as <c>torch.round</c>.</summary>
    public static double Code(double u, int bits)
    {
        var (qn, qp) = Range(bits);
        return Math.Round(Math.Clamp(u, qn, qp), MidpointRounding.ToEven);
    }

    /// <summary>The codes of a weight <c>[O, row]</c> with one step per output channel.</summary>
    public static double[] Codes(float[] w, float[] alpha, int bits)
    {
        int row = w.Length / alpha.Length;
        var q = new double[w.Length];
        for (int i = 0; i < w.Length; i++) q[i] = Code(Quotient(w[i], alpha[i / row]), bits);
        return q;
    }

    /// <summary>
    /// <c>FunLSQ.backward</c> given <paramref name="gradQuantized"/> = ∂L/∂w_q: <c>∂L/∂w = middle·G</c> and
    /// <c>∂L/∂α = g·Σ (small·Qn + big·Qp + middle·(round(u) − u))·G</c> per output channel, with
    /// <c>g = 1/√(numel·Qp)</c>; each gradient comes with the sum of |terms| as its rounding scale.
    /// </summary>
    public static (double[] Weight, double[] Alpha, double[] AlphaScale) FunLsqBackward(float[] w, float[] alpha, double[] gradQuantized, int bits)
    {
        var (qn, qp) = Range(bits);
        double g = 1.0 / Math.Sqrt(w.Length * qp);
        int row = w.Length / alpha.Length;
        var dw = new double[w.Length];
        var da = new double[alpha.Length];
        var scale = new double[alpha.Length];
        for (int i = 0; i < w.Length; i++)
        {
            int o = i / row;
            double u = Quotient(w[i], alpha[o]);
            bool small = u < qn, big = u > qp, middle = !small && !big;
            dw[i] = middle ? gradQuantized[i] : 0;
            double term = (small ? qn : 0) + (big ? qp : 0) + (middle ? Math.Round(u, MidpointRounding.ToEven) - u : 0);
            da[o] += term * gradQuantized[i] * g;
            scale[o] += Math.Abs(gradQuantized[i]) * Math.Max(1, Math.Abs(term)) * g;
        }
        return (dw, da, scale);
    }
}
