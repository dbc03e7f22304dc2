namespace Spiking.Autograd;

/// <summary>
/// The differentiable ops, in the spirit of <c>torch.nn.functional</c>. Each op lives in its own file under
/// <c>Ops/</c> with its node: the forward, what it saves, and the backward side by side. A new op is one file that
/// adds a method here (this class is partial) and a <see cref="Node"/> subclass beside it.
/// </summary>
public static partial class Functional
{
}
