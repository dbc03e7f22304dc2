using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>Gradient helpers for broadcasting ops.</summary>
internal static class Broadcasting
{
    /// <summary>The gradient of an input of shape <paramref name="inputShape"/> that was broadcast to the gradient's shape.</summary>
    public static Tensor Unbroadcast(Tensor gradOutput, Shape inputShape) =>
        gradOutput.Shape == inputShape ? gradOutput.Clone() : gradOutput.SumToShape(inputShape);

    /// <summary>
    /// <paramref name="gradient"/> summed down to <paramref name="inputShape"/>, taking ownership: it is returned as
    /// is when it already has that shape, and disposed otherwise.
    /// </summary>
    public static Tensor ReduceTo(Tensor gradient, Shape inputShape)
    {
        if (gradient.Shape == inputShape) return gradient;
        var reduced = gradient.SumToShape(inputShape);
        gradient.Dispose();
        return reduced;
    }

    /// <summary>
    /// <paramref name="gradient"/> (shape <paramref name="reducedShape"/>, which broadcasts to <paramref name="shape"/>)
    /// repeated over the axes a reduction removed: the gradient of a sum, up to a factor.
    /// </summary>
    public static Tensor Expand(Tensor gradient, Shape reducedShape, Shape shape, float scale = 1f)
    {
        // The gradient of a full reduction is one value everywhere: one pass that writes it, rather than zeros and an add.
        if (gradient.Length == 1 && gradient.IsOnHost) return Tensor.Full(shape, gradient.AsReadOnlySpan()[0] * scale);
        var result = Tensor.Zeros(shape);
        using (var view = gradient.Reshape(reducedShape))
        {
            result.AddInPlace(view);
        }
        if (scale != 1f) result.MultiplyInPlace(scale);
        return result;
    }
}
