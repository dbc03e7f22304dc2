using System.Runtime.CompilerServices;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd.Neurons;

/// <summary>
/// The potential after the previous step's reset, for a backward whose charge derivative depends on it: the carried
/// or rest state at the first step, else the reset of the previous step's saved <c>h</c> (slot 0) recomputed with the
/// forward's operations, so it has the forward's bits.
/// </summary>
internal static class PreviousPotential
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Of<TSimd, TVec, TReset>(in NeuronBackwardLanes<TVec> lanes, TVec vr, TVec theta)
        where TSimd : struct, ISimd<TVec> where TVec : struct where TReset : struct, IResetRule
    {
        if (lanes.IsFirst) return lanes.InitialState[0];
        var h = lanes.PreviousSaved[0];
        return TReset.Reset<TSimd, TVec>(h, TSimd.ExpandBits((uint)TSimd.GreaterThanOrEqualMask(h, theta)), TSimd.One, vr, theta);
    }
}
