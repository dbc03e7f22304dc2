using System.Threading;
using Spiking.Tensors;

namespace Spiking.Layers;

/// <summary>
/// The generator layers draw their initial weights from when none is passed, as PyTorch's global generator:
/// <see cref="Seed"/> it before building a model and the same model comes out, whatever the thread count.
/// It draws from <see cref="RandomStreams.Initialization"/>; the default <see cref="Dropout"/> layers of a model
/// take their masks from the same seed on streams of their own (<see cref="RandomStreams.DropoutLayer"/>).
/// </summary>
public static class ModelSeed
{
    private static readonly AsyncLocal<State?> Current = new();

    /// <summary>The generator in use (seeded with 0 until <see cref="Seed"/> is called on this async flow).</summary>
    public static PhiloxGenerator Shared => CurrentState.Generator;

    /// <summary>Restarts the shared generator from <paramref name="seed"/> (<c>torch.manual_seed</c>), and the count of default dropout layers.</summary>
    public static void Seed(ulong seed) => Current.Value = new State(seed);

    /// <summary>
    /// A generator for the next dropout layer built without one: the model seed, on the stream of the i-th such
    /// layer since <see cref="Seed"/>, so a seed gives every dropout layer of a model the same masks each run and no
    /// two layers the same masks.
    /// </summary>
    internal static PhiloxGenerator NextDropoutGenerator()
    {
        var state = CurrentState;
        uint layer = (uint)(Interlocked.Increment(ref state.DropoutLayers) - 1);
        return new PhiloxGenerator(state.Generator.Seed, RandomStreams.DropoutLayer(layer));
    }

    private static State CurrentState => Current.Value ??= new State(0);

    private sealed class State(ulong seed)
    {
        public readonly PhiloxGenerator Generator = new(seed, RandomStreams.Initialization);

        public int DropoutLayers;
    }
}
