using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Spiking.Autograd;
using Spiking.Layers;
using Spiking.Layers.Serialization;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class CheckpointTests
{
    /// <summary>A module with a parameter, a float buffer and an int64 buffer, like a BatchNorm.</summary>
    private sealed class Block : Module
    {
        public Block(float start)
        {
            Weight = RegisterParameter("weight", Tensor.FromArray(Values(6, start), 2, 3));
            Mean = RegisterBuffer("running_mean", Tensor.FromArray(Values(3, start + 100), 3));
            Tracked = RegisterInt64Buffer("num_batches_tracked");
            Tracked.Value = (long)start;
        }

        public Parameter Weight { get; }

        public Tensor Mean { get; }

        public Int64Buffer Tracked { get; }

        public override Variable Forward(Variable input) => input;

        private static float[] Values(int n, float start)
        {
            var v = new float[n];
            for (int i = 0; i < n; i++) v[i] = start + i * 0.25f;
            return v;
        }
    }

    private static Sequential Model(float start) => new(new Block(start), new Block(start + 10));

    private static readonly string[] Names =
        ["0.weight", "0.running_mean", "0.num_batches_tracked", "1.weight", "1.running_mean", "1.num_batches_tracked"];

    /// <summary>A snapshot of every value and version of the model, to prove a failed load changed nothing.</summary>
    private static (float[] Values, long[] Counters, int[] Versions) Snapshot(Module model)
    {
        var values = new List<float>();
        var counters = new List<long>();
        var versions = new List<int>();
        foreach (var e in model.StateDict())
        {
            if (e.Value is not null)
            {
                values.AddRange(e.Value.ToArray());
                versions.Add(e.Value.Version);
            }
            else
            {
                counters.Add(e.Counter!.Value);
            }
        }
        return (values.ToArray(), counters.ToArray(), versions.ToArray());
    }

    /// <summary>A file of the given entries, offsets computed here, data as given.</summary>
    private static byte[] FileOf(params (string Name, string DType, int[] Shape, byte[] Data)[] entries)
    {
        var header = new StringBuilder("{");
        long offset = 0;
        var data = new List<byte>();
        foreach (var (name, dtype, shape, bytes) in entries)
        {
            if (header.Length > 1) header.Append(',');
            header.Append($"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{offset},{offset + bytes.Length}]}}");
            offset += bytes.Length;
            data.AddRange(bytes);
        }
        return SafeTensorsBytes.Build(header.Append('}').ToString(), data.ToArray());
    }

    private static (string, string, int[], byte[]) F32(string name, params int[] shape)
    {
        int n = 1;
        foreach (int d in shape) n *= d;
        return (name, "F32", shape, new byte[4 * n]);
    }

    private static (string, string, int[], byte[]) I64(string name) => (name, "I64", [], new byte[8]);

    private static (string, string, int[], byte[])[] Matching() =>
    [
        F32("0.weight", 2, 3), F32("0.running_mean", 3), I64("0.num_batches_tracked"),
        F32("1.weight", 2, 3), F32("1.running_mean", 3), I64("1.num_batches_tracked"),
    ];

    [Fact]
    public void Save_then_load_restores_every_entry_bit_for_bit()
    {
        using var dir = new TempFolder();
        string path = dir.File("model.safetensors");
        using var saved = Model(1.5f);
        Checkpoint.Save(saved, path, new Dictionary<string, string> { ["workload"] = "test" });
        Assert.Equal(new[] { "model.safetensors" }, dir.Names());

        var file = SafeTensors.Read(path);
        var names = new List<string>();
        foreach (var entry in file.Entries) names.Add(entry.Name);
        Assert.Equal(Names, names);
        Assert.Equal((SafeTensorsDType.F32, new Shape(2, 3)), (file["1.weight"].DType, file["1.weight"].Shape));
        Assert.Equal((SafeTensorsDType.I64, new Shape()), (file["0.num_batches_tracked"].DType, file["0.num_batches_tracked"].Shape));
        Assert.Equal("test", file.Metadata["workload"]);

        using var loaded = Model(-7f);
        var weight = ((Block)loaded[1]).Weight;
        int versionBefore = weight.Value.Version;
        Checkpoint.Load(loaded, path);
        var expected = Snapshot(saved);
        var actual = Snapshot(loaded);
        Reference.AssertBitwise(expected.Values, actual.Values, "state");
        Assert.Equal(new[] { 1L, 11L }, actual.Counters);
        Assert.True(weight.Value.Version > versionBefore, "loading must write through AsSpan so weight caches see the change");
    }

    [Fact]
    public void Float_entries_may_be_F64_F16_or_BF16()
    {
        using var model = new Block(0f);
        var entries = Matching()[..3];
        entries[0] = ("weight", "F64", [2, 3], SafeTensorsBytes.Le(0.5, -1.0, 2.0, 1e-3, 4.0, -8.0));
        entries[1] = ("running_mean", "BF16", [3], [0x80, 0x3F, 0x00, 0xC0, 0x00, 0x00]);
        entries[2] = ("num_batches_tracked", "I64", [], SafeTensorsBytes.Le(123L));
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("m"), FileOf(entries));
        Checkpoint.Load(model, dir.File("m"));
        Assert.Equal(new[] { 0.5f, -1f, 2f, 1e-3f, 4f, -8f }, model.Weight.Value.ToArray());
        Assert.Equal(new[] { 1f, -2f, 0f }, model.Mean.ToArray());
        Assert.Equal(123L, model.Tracked.Value);

        entries[1] = ("running_mean", "F16", [3], [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38]);
        File.WriteAllBytes(dir.File("m"), FileOf(entries));
        Checkpoint.Load(model, dir.File("m"));
        Assert.Equal(new[] { 1f, -2f, 0.5f }, model.Mean.ToArray());
    }

    public static TheoryData<string, string[]> Mismatches() => new()
    {
        { "missing", new[] { "'1.running_mean' is missing", "F32[3]" } },
        { "extra", new[] { "'2.weight' (F32[4]) is not in the model" } },
        { "shape", new[] { "'0.weight' is F32[3, 2]", "expected F32[2, 3]" } },
        { "dtype", new[] { "'1.weight' is I32[2, 3]", "expected F32[2, 3]" } },
        { "counter", new[] { "'1.num_batches_tracked' is F32[]", "expected I64[]" } },
        { "counter-shape", new[] { "'0.num_batches_tracked' is I64[1]", "expected I64[]" } },
        { "several", new[] { "'1.running_mean' is missing", "'2.weight' (F32[4]) is not in the model" } },
    };

    [Theory]
    [MemberData(nameof(Mismatches))]
    public void A_mismatched_file_names_every_wrong_entry_and_leaves_the_model_untouched(string kind, string[] fragments)
    {
        var entries = new List<(string, string, int[], byte[])>(Matching());
        switch (kind)
        {
            case "missing": entries.RemoveAt(4); break;
            case "extra": entries.Add(F32("2.weight", 4)); break;
            case "shape": entries[0] = F32("0.weight", 3, 2); break;
            case "dtype": entries[3] = ("1.weight", "I32", [2, 3], new byte[24]); break;
            case "counter": entries[5] = F32("1.num_batches_tracked"); break;
            case "counter-shape": entries[2] = ("0.num_batches_tracked", "I64", [1], new byte[8]); break;
            default: entries.RemoveAt(4); entries.Add(F32("2.weight", 4)); break;
        }
        using var dir = new TempFolder();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, FileOf(entries.ToArray()));
        using var model = Model(3f);
        var before = Snapshot(model);

        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(model, path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("unchanged", e.Message, StringComparison.Ordinal);
        foreach (string fragment in fragments) Assert.Contains(fragment, e.Message, StringComparison.Ordinal);

        var after = Snapshot(model);
        Reference.AssertBitwise(before.Values, after.Values, "values after a failed load");
        Assert.Equal(before.Counters, after.Counters);
        Assert.Equal(before.Versions, after.Versions);
    }

    [Fact]
    public void A_file_written_for_a_matching_model_loads_and_a_corrupt_one_leaves_the_model_untouched()
    {
        using var dir = new TempFolder();
        string path = dir.File("m.safetensors");
        File.WriteAllBytes(path, FileOf(Matching()));
        using var model = Model(2f);
        Checkpoint.Load(model, path);
        Assert.All(Snapshot(model).Values, v => Assert.Equal(0f, v));

        using var other = Model(2f);
        var before = Snapshot(other);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(other, path));
        Assert.Contains("1.num_batches_tracked", e.Message, StringComparison.Ordinal);
        Assert.Equal(before.Versions, Snapshot(other).Versions);
    }

    [Fact]
    public void Saving_over_an_existing_checkpoint_leaves_no_temporary_file()
    {
        using var dir = new TempFolder();
        string path = dir.File("model.safetensors");
        using var model = Model(1f);
        Checkpoint.Save(model, path);
        ((Block)model[0]).Tracked.Value = 99;
        Checkpoint.Save(model, path);
        Assert.Equal(new[] { "model.safetensors" }, dir.Names());
        var counter = new long[1];
        SafeTensors.Read(path)["0.num_batches_tracked"].CopyTo(counter);
        Assert.Equal(99L, counter[0]);
    }
}
