using Xunit;

namespace Spiking.Tests;

/// <summary>
/// Tests that change <see cref="Spiking.Tensors.Parallelism.MaxThreads"/>, a process-wide setting, run in this
/// collection so nothing else runs beside them.
/// </summary>
[CollectionDefinition("Parallelism", DisableParallelization = true)]
public sealed class ParallelismCollectionDefinition;
