using System;

namespace Spiking.Autograd;

/// <summary>
/// Whether ops record the graph on this thread. <c>using (GradMode.NoGrad()) { ... }</c> runs inference without
/// building a graph or saving tensors for backward (PyTorch's <c>torch.no_grad()</c>).
/// </summary>
public static class GradMode
{
    [ThreadStatic]
    private static int t_disabledDepth;

    /// <summary>True unless inside a <see cref="NoGrad"/> scope on this thread.</summary>
    public static bool IsEnabled => t_disabledDepth == 0;

    /// <summary>Disables recording until the returned scope is disposed; scopes nest.</summary>
    public static Scope NoGrad()
    {
        t_disabledDepth++;
        return new Scope();
    }

    /// <summary>A no-grad scope; disposing it re-enables recording (when it is the outermost).</summary>
    public readonly struct Scope : IDisposable
    {
        /// <summary>Leaves the scope.</summary>
        public void Dispose() => t_disabledDepth--;
    }
}
