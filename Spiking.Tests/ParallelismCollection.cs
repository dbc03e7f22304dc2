using System.Diagnostics.CodeAnalysis;
using Xunit;

namespace Spiking.Tests;

/// <summary>Tests that change <see cref="Spiking.Tensors.Parallelism.MaxThreads"/> run alone, so no other test sees their setting.</summary>
[CollectionDefinition("Parallelism", DisableParallelization = true)]
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "xunit names collection definitions ...Collection.")]
public sealed class ParallelismCollection;
