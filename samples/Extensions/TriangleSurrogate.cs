using System.Collections.Generic;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;

namespace Spiking.Samples.Extensions;

/// <summary>
/// A custom surrogate: a triangle of half-width <c>width</c> and area 1, <c>g'(x) = max(0, 1 − |x|/width)/width</c>.
/// Written once as an operator struct, so the neurons fuse it into their backward and its scalar and span forms agree.
/// </summary>
public sealed class TriangleSurrogate(float width) : Surrogate<TriangleSurrogate.Formula>(new Formula(width))
{
    /// <inheritdoc/>
    public override string Name => "Triangle";

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["width"] = width };

    /// <summary>Makes <c>Surrogate.Create("Triangle", {width})</c> build one (width 1 when not given).</summary>
    public static void Register() => Surrogate.Register("Triangle", p =>
    {
        Surrogate.RejectUnknown(p, "Triangle", "width");
        return new TriangleSurrogate((float)(p.TryGetValue("width", out var w) ? w : 1.0));
    });

    /// <summary>The operator.</summary>
    public readonly struct Formula(float width) : ISurrogateFunction
    {
        /// <inheritdoc/>
        public TVec Derivative<TSimd, TVec>(TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            var w = TSimd.Broadcast(width);
            return TSimd.Divide(TSimd.Max(TSimd.Zero, TSimd.Subtract(TSimd.One, TSimd.Divide(TSimd.Abs(x), w))), w);
        }
    }
}
