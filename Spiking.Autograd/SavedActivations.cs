using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using Spiking.Tensors;

namespace Spiking.Autograd;

/// <summary>How a tensor saved for backward is stored.</summary>
public enum SavedStorage
{
    /// <summary>Packed bits (a <see cref="SpikeTensor"/>): one bit per element, rows padded to 64-bit words.</summary>
    Bits,

    /// <summary>Dense float32 (a <see cref="Tensor"/>): four bytes per element.</summary>
    Dense,

    /// <summary>Something else an op keeps for its backward (per-channel statistics in double, index maps).</summary>
    Other,
}

/// <summary>
/// One tensor the recorded graph holds for backward: the op (<see cref="Node.Name"/>) that saved it, what it is, how
/// it is stored, its shape and bytes, and, for a float tensor on the host, whether every value is 0 or 1 (a spike
/// saved as float, which bits would hold in a 32nd of the bytes).
/// </summary>
/// <param name="Op">The name of the op that saved it.</param>
/// <param name="NodeIndex">The node's place in forward order among the nodes of the report (0 first).</param>
/// <param name="What">What the op saved, as the op describes it (<c>"input"</c>, <c>"weight"</c>, …).</param>
/// <param name="Storage">Bits, float or other.</param>
/// <param name="Shape">The tensor's shape; the empty shape for <see cref="SavedStorage.Other"/>.</param>
/// <param name="Bytes">The bytes its elements take (packed words for bits, including a row's padding).</param>
/// <param name="OnlyZeroOne">A float tensor on the host with at least one element, every one 0 or 1.</param>
/// <param name="Shared">The same storage (the same elements) was already reported by an earlier entry, so the totals count it once.</param>
/// <param name="Leaf">
/// It is the value of a leaf variable of the graph (a parameter such as a weight or a batch norm's γ, or the network's
/// input): it lives on without the graph, so the totals of activations leave it out.
/// </param>
public readonly record struct SavedActivation(string Op, int NodeIndex, string What, SavedStorage Storage, Shape Shape, long Bytes, bool OnlyZeroOne, bool Shared, bool Leaf)
{
    /// <summary>Formats the entry as one line.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"#{NodeIndex} {Op}: {What} {Storage} {Shape} {Bytes} B{(OnlyZeroOne ? " (only 0/1)" : "")}{(Shared ? " (shared)" : "")}{(Leaf ? " (leaf)" : "")}");
}

/// <summary>
/// The saved activations of one op name added up: how many nodes, and their bytes by storage (shared storage counted
/// once, leaves left out).
/// </summary>
/// <param name="Op">The op's name.</param>
/// <param name="Nodes">How many nodes of that name saved something.</param>
/// <param name="FloatBytes">Bytes of float tensors.</param>
/// <param name="BitBytes">Bytes of bit tensors.</param>
/// <param name="OtherBytes">Bytes of other saved state.</param>
/// <param name="ZeroOneFloatBytes">Bytes of float tensors holding only 0/1 (included in <paramref name="FloatBytes"/>).</param>
public readonly record struct SavedActivationTotal(string Op, int Nodes, long FloatBytes, long BitBytes, long OtherBytes, long ZeroOneFloatBytes)
{
    /// <summary>All the bytes.</summary>
    public long Bytes => FloatBytes + BitBytes + OtherBytes;
}

/// <summary>
/// What the recorded graph behind a variable holds for its backward: every tensor each op saved, as bits or floats,
/// with shape and bytes, and whether a float one holds only 0/1 values (a spike saved as float). A diagnostic: it walks
/// the graph after a forward with grad and before <see cref="Variable.Backward(Tensor?, bool)"/> (which releases what
/// it reports), reads the saved tensors without changing them or the graph, and allocates only the report.
/// </summary>
/// <remarks>
/// Each op describes its own saved state through <see cref="Node.DescribeSaved(SavedTensorSink)"/>; a node whose
/// class does not (a custom op written before it existed) is listed in <see cref="UndescribedOps"/>, so a gap is
/// visible rather than reported as nothing. Saved views of the same storage (a neuron's spikes kept by two consumers)
/// are counted once in the totals and marked <see cref="SavedActivation.Shared"/>; views of a leaf variable (a
/// weight, a batch norm's γ, the network's input) are marked <see cref="SavedActivation.Leaf"/> and left out of the
/// totals, which are the activations the graph keeps alive. The 0/1 test reads every element
/// of a host float tensor once; device tensors are not read (their <see cref="SavedActivation.OnlyZeroOne"/> is false).
/// </remarks>
public sealed class SavedActivations
{
    private readonly List<SavedActivation> _tensors;
    private readonly List<string> _undescribed;

    private SavedActivations(List<SavedActivation> tensors, List<string> undescribed, int nodes)
    {
        (_tensors, _undescribed, Nodes) = (tensors, undescribed, nodes);
        foreach (var t in tensors)
        {
            if (t.Shared) continue;
            if (t.Leaf)
            {
                LeafBytes += t.Bytes;
                continue;
            }
            switch (t.Storage)
            {
                case SavedStorage.Bits:
                    BitBytes += t.Bytes;
                    BitsAsFloatBytes += (long)t.Shape.ElementCount * sizeof(float);
                    break;
                case SavedStorage.Dense:
                    FloatBytes += t.Bytes;
                    if (t.OnlyZeroOne) ZeroOneFloatBytes += t.Bytes;
                    break;
                default: OtherBytes += t.Bytes; break;
            }
        }
    }

    /// <summary>Every saved tensor, by node in forward order, each node's in the order it describes them.</summary>
    public IReadOnlyList<SavedActivation> Tensors => _tensors;

    /// <summary>The names of the nodes (one entry per node) whose class does not describe what it saved.</summary>
    public IReadOnlyList<string> UndescribedOps => _undescribed;

    /// <summary>How many nodes the walk found (those that saved nothing included).</summary>
    public int Nodes { get; }

    /// <summary>Bytes of saved float activations (leaves left out), shared storage once.</summary>
    public long FloatBytes { get; }

    /// <summary>Bytes of saved bit activations (leaves left out), shared storage once.</summary>
    public long BitBytes { get; }

    /// <summary>Bytes of other saved state (statistics, index maps).</summary>
    public long OtherBytes { get; }

    /// <summary>
    /// The bytes the saved bit activations would take as float32 (four per element), as an engine that keeps spikes as
    /// floats would hold them; <c>BitsAsFloatBytes − BitBytes</c> is what keeping them as bits saves.
    /// </summary>
    public long BitsAsFloatBytes { get; }

    /// <summary>Bytes of saved float activations holding only 0/1 values, shared storage once (part of <see cref="FloatBytes"/>).</summary>
    public long ZeroOneFloatBytes { get; }

    /// <summary>Bytes of saved leaves (parameters, the input), which live on without the graph; not part of <see cref="Bytes"/>.</summary>
    public long LeafBytes { get; }

    /// <summary>All saved activation bytes (floats, bits and other state; leaves left out), shared storage once.</summary>
    public long Bytes => FloatBytes + BitBytes + OtherBytes;

    /// <summary>The saved float activations (leaves left out) that hold only 0/1 values: spikes saved as floats.</summary>
    public IEnumerable<SavedActivation> ZeroOneFloats
    {
        get
        {
            foreach (var t in _tensors)
            {
                if (t.OnlyZeroOne && !t.Leaf) yield return t;
            }
        }
    }

    /// <summary>The totals per op name, most bytes first (ties by name).</summary>
    public IReadOnlyList<SavedActivationTotal> ByOp()
    {
        var totals = new Dictionary<string, (HashSet<int> Nodes, long F, long B, long O, long Z)>(StringComparer.Ordinal);
        foreach (var t in _tensors)
        {
            if (t.Leaf) continue;
            if (!totals.TryGetValue(t.Op, out var s)) s = ([], 0, 0, 0, 0);
            s.Nodes.Add(t.NodeIndex);
            long bytes = t.Shared ? 0 : t.Bytes;
            switch (t.Storage)
            {
                case SavedStorage.Bits: s.B += bytes; break;
                case SavedStorage.Dense:
                    s.F += bytes;
                    if (t.OnlyZeroOne) s.Z += bytes;
                    break;
                default: s.O += bytes; break;
            }
            totals[t.Op] = s;
        }
        var list = new List<SavedActivationTotal>(totals.Count);
        foreach (var (op, s) in totals) list.Add(new SavedActivationTotal(op, s.Nodes.Count, s.F, s.B, s.O, s.Z));
        list.Sort(static (a, b) => a.Bytes != b.Bytes ? b.Bytes.CompareTo(a.Bytes) : string.CompareOrdinal(a.Op, b.Op));
        return list;
    }

    /// <summary>
    /// Walks the graph that produced <paramref name="root"/> (every node a backward from it would run) and reports
    /// what each node holds for backward. Nodes already released by a backward hold nothing and are not reached.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
    public static SavedActivations Of(Variable root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var order = root.Creator is { } creator ? Graph.TopologicalOrder(creator, allowReleased: true) : [];
        var sink = new SavedTensorSink();
        foreach (var node in order)
        {
            foreach (var input in node.Inputs)
            {
                if (input.IsLeaf) sink.AddLeaf(input);
            }
        }
        var undescribed = new List<string>();
        for (int i = 0; i < order.Count; i++)
        {
            var node = order[i];
            sink.Begin(node.Name, i);
            node.DescribeSaved(sink);
            if (!sink.Described) undescribed.Add(node.Name);
        }
        return new SavedActivations(sink.Entries, undescribed, order.Count);
    }

    /// <summary>
    /// A table: the totals (all, float, float holding only 0/1, bits, other), divided by <paramref name="perSample"/>
    /// (1: the whole graph; a batch size: per sample), then the ops by bytes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="perSample"/> is not positive.</exception>
    public string Format(int perSample = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perSample);
        var culture = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append(culture, $"saved for backward{(perSample > 1 ? $" per sample (/{perSample})" : "")}: {Bytes / perSample} B = float {FloatBytes / perSample} B")
            .Append(culture, $" (0/1-valued {ZeroOneFloatBytes / perSample} B) + bits {BitBytes / perSample} B (as float {BitsAsFloatBytes / perSample} B) + other {OtherBytes / perSample} B")
            .Append(culture, $"; leaves (parameters, input) {LeafBytes / perSample} B besides; {Nodes} nodes")
            .AppendLine();
        text.AppendLine("op | nodes | float B | of which 0/1 | bits B | other B");
        foreach (var t in ByOp())
        {
            text.Append(culture, $"{t.Op} | {t.Nodes} | {t.FloatBytes / perSample} | {t.ZeroOneFloatBytes / perSample} | {t.BitBytes / perSample} | {t.OtherBytes / perSample}").AppendLine();
        }
        if (_undescribed.Count > 0) text.Append("not described: ").AppendJoin(", ", _undescribed).AppendLine();
        return text.ToString();
    }

    /// <summary>Formats the whole graph's table (<see cref="Format(int)"/> with 1).</summary>
    public override string ToString() => Format();
}

/// <summary>
/// What an op's <see cref="Node.DescribeSaved(SavedTensorSink)"/> reports its saved tensors to, for
/// <see cref="SavedActivations"/>. Each call names one saved tensor; a null one (not saved this time) is skipped.
/// </summary>
public sealed class SavedTensorSink
{
    // Storage already reported (array or device, offset, length) and, for floats, its 0/1 verdict.
    private readonly Dictionary<(object Storage, long Offset, long Length), bool> _seen = [];
    // The storage of the graph's leaf variables (parameters, inputs).
    private readonly HashSet<(object Storage, long Offset, long Length)> _leaves = [];
    private string _op = "";
    private int _node;

    internal SavedTensorSink()
    {
    }

    internal List<SavedActivation> Entries { get; } = [];

    /// <summary>Whether the current node's class described its saved state (possibly as nothing).</summary>
    internal bool Described { get; private set; }

    internal void Begin(string op, int node) => (_op, _node, Described) = (op, node, true);

    /// <summary>Marks the current node as not describing its saved state (the default of <see cref="Node.DescribeSaved(SavedTensorSink)"/>).</summary>
    internal void Undescribed() => Described = false;

    /// <summary>Notes the storage of a leaf variable, so a saved view of it is marked as a leaf.</summary>
    internal void AddLeaf(Variable leaf)
    {
        if (leaf.Tensor is { IsDisposed: false } t) _leaves.Add(Key(t));
        else if (leaf.Spikes is { IsDisposed: false } s) _leaves.Add(Key(s));
    }

    private static (object, long, long) Key(Tensor t) => t.IsOnHost
        ? (t.StorageArray, t.StorageOffset, t.Length)
        : (t.Device, (long)t.DeviceAddress, t.Length);

    private static (object, long, long) Key(SpikeTensor s)
    {
        long words = (long)s.RowCount * s.WordsPerRow;
        return s.IsOnHost ? (s.StorageArray, s.WordOffset, words) : (s.Device, (long)s.DeviceAddress, words);
    }

    /// <summary>Reports a float tensor saved through a <see cref="SavedTensor"/> (read without the in-place check).</summary>
    public void Add(string what, SavedTensor? saved)
    {
        if (saved is not null) Add(what, saved.View);
    }

    /// <summary>Reports a float tensor the op keeps itself.</summary>
    public void Add(string what, Tensor? tensor)
    {
        ArgumentNullException.ThrowIfNull(what);
        if (tensor is null || tensor.IsDisposed) return;
        long bytes = (long)tensor.Length * sizeof(float);
        var key = Key(tensor);
        bool shared = _seen.TryGetValue(key, out bool zeroOne);
        if (!shared)
        {
            zeroOne = tensor.IsOnHost && OnlyZeroOne(tensor.AsReadOnlySpan());
            _seen.Add(key, zeroOne);
        }
        Entries.Add(new SavedActivation(_op, _node, what, SavedStorage.Dense, tensor.Shape, bytes, zeroOne, shared, _leaves.Contains(key)));
    }

    /// <summary>Reports spikes the op keeps as bits.</summary>
    public void Add(string what, SpikeTensor? spikes)
    {
        ArgumentNullException.ThrowIfNull(what);
        if (spikes is null || spikes.IsDisposed) return;
        var key = Key(spikes);
        bool shared = !_seen.TryAdd(key, false);
        Entries.Add(new SavedActivation(_op, _node, what, SavedStorage.Bits, spikes.Shape, key.Item3 * sizeof(ulong), false, shared, _leaves.Contains(key)));
    }

    /// <summary>Reports other saved state of <paramref name="bytes"/> bytes (statistics, an index map).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is negative.</exception>
    public void AddOther(string what, long bytes)
    {
        ArgumentNullException.ThrowIfNull(what);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes == 0) return;
        Entries.Add(new SavedActivation(_op, _node, what, SavedStorage.Other, new Shape(), bytes, false, false, false));
    }

    /// <summary>Reports an operand kept as bits or as a float view.</summary>
    internal void Add(string what, in SavedOperand operand)
    {
        if (operand.Bits is { } bits) Add(what, bits);
        else if (operand.Saved is { } saved) Add(what, saved);
        else Add(what, operand.Dense);
    }

    /// <summary>Whether <paramref name="values"/> is not empty and every value is 0 or 1.</summary>
    internal static bool OnlyZeroOne(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return false;
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            // v·(v − 1) is 0 exactly for 0 and 1 (for a tiny v it is about −v, never rounded to 0; NaN and ∞ stay).
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            for (; i < vectors.Length; i++)
            {
                var v = vectors[i];
                if (!Vector.EqualsAll(v * (v - Vector<float>.One), Vector<float>.Zero)) return false;
            }
            i *= Vector<float>.Count;
        }
        for (; i < values.Length; i++)
        {
            float v = values[i];
            if (v != 0f && v != 1f) return false;
        }
        return true;
    }
}
