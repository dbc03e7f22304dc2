using Xunit;

namespace Spiking.Tests;

/// <summary>Tests that change <see cref="Spiking.Tensors.Parallelism.MaxThreads"/> run alone, never beside other tests.</summary>
[CollectionDefinition("Parallelism", DisableParallelization = true)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "xunit names collection definitions this way.")]
public sealed class ParallelismCollection;
