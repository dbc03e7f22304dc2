using System.Threading;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// The generator layers draw their initial weights from when none is passed, as PyTorch's global generator:
/// <see cref="Seed"/> it before building a model and the same model comes out, whatever the thread count.
/// </summary>
public static class ModelSeed
{
    private static readonly AsyncLocal<PhiloxGenerator?> Current = new();

    /// <summary>The generator in use (seeded with 0 until <see cref="Seed"/> is called on this async flow).</summary>
    public static PhiloxGenerator Shared => Current.Value ??= new PhiloxGenerator(0);

    /// <summary>Restarts the shared generator from <paramref name="seed"/> (<c>torch.manual_seed</c>).</summary>
    public static void Seed(ulong seed) => Current.Value = new PhiloxGenerator(seed);
}
