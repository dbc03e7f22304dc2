using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Unicode;
using Spiking.Layers.IO;

namespace Spiking.Cli.Conformance;

/// <summary>The totals of a conformance run.</summary>
/// <param name="Passed">Cases that matched the reference.</param>
/// <param name="Failed">Cases that did not, or could not be checked (the <paramref name="Errors"/>).</param>
/// <param name="Errors">Failures that checked nothing: an unknown family, node or surrogate, a malformed or unreadable
/// file or case, a file without cases, a case that compares no values, no file at all.</param>
/// <param name="Values">The values (spikes included) compared over every case.</param>
public sealed record ConformanceSummary(int Passed, int Failed, int Errors, long Values);

/// <summary>
/// Recomputes golden reference cases (<c>../shared/golden/*.json</c>, made with SpikingJelly) in float32 with this
/// engine and compares: spikes exactly, everything else within <c>|a − b| &lt;= 1e-6 + 1e-5·|b|</c>. Each file says
/// what it holds in <c>meta.family</c>; a family, node or surrogate this runner does not know is an error that names
/// it, counted as a failure, never skipped. A run cannot pass having checked nothing: no file, a file without cases
/// and a case that compares no values are errors too, and the summary counts the values compared.
/// </summary>
public static class ConformanceRunner
{
    private delegate void CaseHandler(JsonElement c, string context, CaseCheck check);

    /// <summary>The largest golden file read (the shared ones are at most tens of kilobytes).</summary>
    private const long MaxFileBytes = 64L << 20;

    private static readonly Dictionary<string, CaseHandler> s_families = new(StringComparer.Ordinal)
    {
        ["surrogate"] = SurrogateCases.Check,
        ["neurons"] = NeuronCases.Check,
        ["neurons_more"] = NeuronCases.Check,
        ["tiny_network"] = TinyNetworkCases.Check,
        ["batchnorm"] = BatchNormCases.Check,
    };

    /// <summary>The families this runner can check.</summary>
    public static IReadOnlyCollection<string> KnownFamilies => s_families.Keys;

    /// <summary>
    /// Checks every <c>*.json</c> file of <paramref name="directory"/> (in name order), or only those of
    /// <paramref name="family"/> or named <paramref name="file"/>, writing one line per case to <paramref name="output"/>
    /// and a final <c>N passed, M failed</c>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="ArgumentException"><paramref name="family"/> is not one of <see cref="KnownFamilies"/>.</exception>
    public static ConformanceSummary Run(string directory, TextWriter output, string? family = null, string? file = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(output);
        if (family is not null && !s_families.ContainsKey(family))
        {
            throw new ArgumentException($"Unknown conformance family '{family}'; known: {string.Join(", ", KnownFamilies)}.", nameof(family));
        }
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"no such directory: {directory}");
        var files = Directory.GetFiles(directory, "*.json").OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal).ToList();
        if (file is not null)
        {
            files = files.Where(f => string.Equals(Path.GetFileName(f), Path.GetFileName(file), StringComparison.Ordinal)).ToList();
        }
        var total = new Tally();
        if (files.Count == 0)
        {
            output.WriteLine(file is null ? $"ERROR no *.json files in {directory}" : $"ERROR no file {file} in {directory}");
            total.Error();
        }
        foreach (var path in files) RunFile(path, output, family, total);
        if (files.Count > 0 && total.Passed + total.Failed == 0)
        {
            output.WriteLine($"ERROR no file of family '{family}' among the {files.Count} *.json files in {directory}");
            total.Error();
        }
        output.WriteLine($"{total.Passed} passed, {total.Failed} failed, {total.Values} values compared");
        return new ConformanceSummary(total.Passed, total.Failed, total.Errors, total.Values);
    }

    private sealed class Tally
    {
        public int Passed, Failed, Errors;
        public long Values;

        public void Error()
        {
            Failed++;
            Errors++;
        }
    }

    private static void RunFile(string path, TextWriter output, string? familyFilter, Tally total)
    {
        string name = Path.GetFileName(path);
        JsonDocument document;
        try
        {
            byte[] bytes = InputFile.ReadAllBytes(path, MaxFileBytes, "Golden file");
            if (!Utf8.IsValid(bytes)) throw new InvalidDataException($"Golden file '{path}' is not valid UTF-8 text.");
            document = JsonDocument.Parse(bytes);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"{name,-44} FAIL ERROR cannot read {name}: {e.Message}");
            total.Error();
            return;
        }
        using (document)
        {
            try
            {
                RunCases(document.RootElement, name, output, familyFilter, total);
            }
            catch (InvalidOperationException e)
            {
                // A string escape that names no character (a lone surrogate, \ud800) is valid JSON but has no text.
                output.WriteLine($"{name,-44} FAIL ERROR {name} holds a string that is not text: {e.Message}");
                total.Error();
            }
        }
    }

    private static void RunCases(JsonElement root, string name, TextWriter output, string? familyFilter, Tally total)
    {
        string? family = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object
            && meta.TryGetProperty("family", out var fam) && fam.ValueKind == JsonValueKind.String ? fam.GetString() : null;
        if (familyFilter is not null && !string.Equals(family, familyFilter, StringComparison.Ordinal)) return;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("cases", out var cases) || cases.ValueKind != JsonValueKind.Array)
        {
            output.WriteLine($"{name,-44} FAIL ERROR {name} has no \"cases\" list");
            total.Error();
            return;
        }
        if (cases.GetArrayLength() == 0)
        {
            output.WriteLine($"{name,-44} FAIL ERROR {name} has an empty \"cases\" list");
            total.Error();
            return;
        }
        output.WriteLine($"# {name}: family {family ?? "(none)"}, {cases.GetArrayLength()} cases");
        CaseHandler? handler = null;
        string? fileError = family is null
            ? $"{name} has no meta.family"
            : s_families.TryGetValue(family, out handler) ? null
            : $"unknown family '{family}' in {name} (known: {string.Join(", ", KnownFamilies)})";
        int index = 0;
        foreach (var c in cases.EnumerateArray())
        {
            string id = c.ValueKind == JsonValueKind.Object && c.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String
                ? idElement.GetString()! : $"{name}[{index}]";
            index++;
            if (fileError is not null)
            {
                output.WriteLine($"{id,-44} {"-",9} {"-",9}  FAIL  ERROR {fileError}");
                total.Error();
                continue;
            }
            var check = new CaseCheck();
            string? error = null;
            try
            {
                handler!(c, $"case {id} of {name}", check);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or KeyNotFoundException)
            {
                error = e.Message;
            }
            if (error is null && check.Compared == 0) error = $"case {id} of {name} compares no values";
            total.Values += check.Compared;
            if (error is null && check.Passed)
            {
                output.WriteLine(Line(id, check, "PASS", null));
                total.Passed++;
            }
            else if (error is null)
            {
                output.WriteLine(Line(id, check, "FAIL", string.Join("; ", check.Failures)));
                total.Failed++;
            }
            else
            {
                output.WriteLine(Line(id, check, "FAIL", $"ERROR {error}"));
                total.Error();
            }
        }
    }

    private static string Line(string id, CaseCheck check, string verdict, string? detail) =>
        string.Create(CultureInfo.InvariantCulture, $"{id,-44} {check.MaxAbsError,9:0.00e+00} {check.MaxRelError,9:0.00e+00}  {verdict}{(detail is null ? "" : "  " + detail)}");
}
