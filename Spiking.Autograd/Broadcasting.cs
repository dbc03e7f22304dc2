using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>Gradient helpers for broadcasting ops.</summary>
internal static class Broadcasting
{
    /// <summary>The gradient of an input of shape <paramref name="inputShape"/> that was broadcast to the gradient's shape.</summary>
    public static Tensor Unbroadcast(Tensor gradOutput, Shape inputShape) =>
        gradOutput.Shape == inputShape ? gradOutput.Clone() : gradOutput.SumToShape(inputShape);
}
