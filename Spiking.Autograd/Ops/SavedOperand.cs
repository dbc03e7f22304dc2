using System;
using Spiking.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Autograd;

/// <summary>
/// An operand that may be dense or bits (of the spike-driven attention ops, of a product or quotient with spikes),
/// kept for backward as a view (bits stay bits) and read a few rows at a time into a small float scratch, or whole:
/// a spike reads as exactly 1 and no spike as 0, so the float loops that follow compute the same values as on the
/// operand's dense 0/1 copy.
/// </summary>
internal readonly record struct SavedOperand(Tensor? Dense, SpikeTensor? Bits, SavedTensor? Saved)
{
    /// <summary>The operand as it is now, for the forward; nothing is kept.</summary>
    public static SavedOperand Of(Variable v) => new(v.Tensor, v.Spikes, null);

    /// <summary>A view of the operand's bits or values that survives the disposal of <paramref name="v"/>.</summary>
    public static SavedOperand Save(Variable v, string what)
    {
        if (v.Spikes is { } bits) return new(null, SavedTensor.Keep(bits), null);
        var saved = new SavedTensor(v.Tensor!, what);
        return new(saved.Value, null, saved);
    }

    /// <summary>
    /// Writes rows <c>[firstRow, firstRow + rows)</c> of length <paramref name="rowLength"/> into
    /// <paramref name="destination"/>.
    /// </summary>
    public void Read(int firstRow, int rows, int rowLength, Span<float> destination)
    {
        int count = rows * rowLength;
        if (count == 0) return;
        if (Bits is { } b)
        {
            BitPack.Unpack(b.Words.Slice(firstRow * b.WordsPerRow, rows * b.WordsPerRow), rowLength, destination[..count]);
        }
        else
        {
            (Saved?.Value ?? Dense!).AsReadOnlySpan().Slice(firstRow * rowLength, count).CopyTo(destination);
        }
    }

    /// <summary>
    /// The operand as floats: its bits unpacked to 0/1 into a new tensor, or a new view of its saved values (checked
    /// against in-place writes). The caller disposes the result.
    /// </summary>
    public Tensor Floats()
    {
        if (Bits is { } b) return b.ToTensor();
        var values = Saved?.Value ?? Dense!;
        return values.Reshape(values.Shape);
    }

    /// <summary>Returns the saved view.</summary>
    public void Release()
    {
        Saved?.Release();
        Bits?.Dispose();
    }
}
