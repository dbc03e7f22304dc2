using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using Xunit;

namespace Spiking.Tests;

/// <summary>
/// The golden SpikingJelly reference files in <c>../shared/golden</c> beside the repository (the directory holding
/// <c>Spiking.sln</c> is found by walking up from the test binaries). A missing directory fails the test that needs it
/// with a message saying where it was looked for; it is never a silent skip.
/// </summary>
public static class Golden
{
    private static readonly Lazy<string?> s_directory = new(Find);

    /// <summary>Where the golden files were looked for, for messages.</summary>
    public static string Expected { get; private set; } = "../shared/golden (beside the directory holding Spiking.sln)";

    /// <summary>True when the golden directory exists.</summary>
    public static bool Available => s_directory.Value is not null;

    /// <summary>The golden directory; fails the test when it is absent.</summary>
    public static string Directory => s_directory.Value ?? throw new Xunit.Sdk.XunitException(
        $"The golden reference files are missing: expected them in {Expected}. They come from the shared checkout (CI has them).");

    /// <summary>The path of one golden file; fails the test when it is absent.</summary>
    public static string File(string name)
    {
        var path = Path.Combine(Directory, name);
        if (!System.IO.File.Exists(path)) throw new Xunit.Sdk.XunitException($"The golden file {path} is missing.");
        return path;
    }

    /// <summary>The ids of a file's cases, or a single placeholder id when the golden files are absent (whose test then fails).</summary>
    public static TheoryData<string> CaseIds(string file)
    {
        var data = new TheoryData<string>();
        if (!Available || !System.IO.File.Exists(Path.Combine(s_directory.Value!, file)))
        {
            data.Add(MissingId);
            return data;
        }
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(Path.Combine(s_directory.Value!, file)));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray()) data.Add(c.GetProperty("id").GetString()!);
        return data;
    }

    /// <summary>The placeholder id <see cref="CaseIds"/> returns when the files are absent.</summary>
    public const string MissingId = "(golden files missing)";

    /// <summary>Runs <paramref name="check"/> on the case <paramref name="id"/> of <paramref name="file"/>.</summary>
    public static void WithCase(string file, string id, Action<JsonElement> check)
    {
        ArgumentNullException.ThrowIfNull(check);
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(File(file)));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("id").GetString() == id)
            {
                check(c);
                return;
            }
        }
        throw new Xunit.Sdk.XunitException($"No case '{id}' in {file}.");
    }

    /// <summary>A nested JSON list of numbers, flattened in row-major order.</summary>
    public static double[] Flat(JsonElement element)
    {
        var values = new List<double>();
        Walk(element, values);
        return values.ToArray();
    }

    /// <summary>The values rounded to float.</summary>
    public static float[] Floats(JsonElement element)
    {
        var d = Flat(element);
        var f = new float[d.Length];
        for (int i = 0; i < f.Length; i++) f[i] = (float)d[i];
        return f;
    }

    /// <summary>A list of integers.</summary>
    public static int[] Ints(JsonElement element)
    {
        var list = new List<int>();
        foreach (var e in element.EnumerateArray()) list.Add(e.GetInt32());
        return list.ToArray();
    }

    /// <summary>Asserts <c>|a − b| &lt;= abs + rel·|b|</c> elementwise (the golden README's float32 tolerance by default).</summary>
    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what, double rel = 1e-5, double abs = 1e-6)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            if (!(err <= abs + rel * Math.Abs(expected[i])))
            {
                throw new Xunit.Sdk.XunitException($"{what}: element {i} is {actual[i]:G9}, expected {expected[i]:G17} (|diff| {err:G3}).");
            }
        }
    }

    private static void Walk(JsonElement e, List<double> values)
    {
        if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in e.EnumerateArray()) Walk(item, values);
        }
        else
        {
            values.Add(e.GetDouble());
        }
    }

    private static string? Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !System.IO.File.Exists(Path.Combine(dir.FullName, "Spiking.sln"))) dir = dir.Parent;
        if (dir is null)
        {
            Expected = $"../shared/golden, but no directory above {AppContext.BaseDirectory} holds Spiking.sln";
            return null;
        }
        var golden = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "golden"));
        Expected = golden;
        return System.IO.Directory.Exists(golden) ? golden : null;
    }
}
