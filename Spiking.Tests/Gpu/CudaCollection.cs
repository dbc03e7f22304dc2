using System.Diagnostics.CodeAnalysis;
using Xunit;

namespace Spiking.Tests.Gpu;

/// <summary>
/// The CUDA tests share the one registered backend of cuda:0 and read its pool's counters, so they run one at a
/// time: a test counting allocations must not see another test's.
/// </summary>
[CollectionDefinition("Cuda")]
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "xunit names collection definitions ...Collection.")]
public sealed class CudaCollection;
