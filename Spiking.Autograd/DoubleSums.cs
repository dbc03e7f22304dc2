using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>Gradients accumulated in double (parameter sums over many rows) rounded once into a float tensor.</summary>
internal static class DoubleSums
{
    /// <summary>A new tensor of <paramref name="shape"/> holding <paramref name="sums"/> rounded to float.</summary>
    public static Tensor ToTensor(System.ReadOnlySpan<double> sums, Shape shape)
    {
        var t = Tensor.Empty(shape);
        var span = t.AsSpan();
        for (int i = 0; i < span.Length; i++) span[i] = (float)sums[i];
        return t;
    }
}
