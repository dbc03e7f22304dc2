using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace Spiking.Cli;

/// <summary>
/// The positional words and <c>--name value</c> (or <c>--name=value</c>) pairs of a command line, read strictly: every
/// option takes a value, none may appear twice, numbers are read in the invariant culture without group separators
/// and must be finite and within the command's range, and whatever no command asked for is an error.
/// </summary>
internal sealed class Options
{
    /// <summary>The most threads <c>--threads</c> accepts.</summary>
    public const int MaxThreads = 1024;

    /// <summary>The most seconds a timing option (<c>--min-time</c>, <c>--max-time</c>) accepts: one day.</summary>
    public const double MaxSeconds = 86_400;

    private readonly Dictionary<string, string> _named = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly List<string> _positional = [];

    private TextWriter _diagnostics = TextWriter.Null;

    /// <summary>The words that are not options, in order.</summary>
    public IReadOnlyList<string> Positional => _positional;

    /// <summary>Writes <c>spiking: warning: …</c> where the command's errors go (standard error).</summary>
    public void Warn(string warning) => _diagnostics.WriteLine($"spiking: warning: {warning}");

    /// <summary>Reads a command line; warnings go to <paramref name="diagnostics"/>.</summary>
    /// <exception cref="UsageException">An option lacks its value, has an empty name or value, or appears twice.</exception>
    public static Options Parse(ReadOnlySpan<string> args, TextWriter? diagnostics = null)
    {
        var o = new Options { _diagnostics = diagnostics ?? TextWriter.Null };
        for (int i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                o._positional.Add(a);
                continue;
            }
            int eq = a.IndexOf('=', StringComparison.Ordinal);
            string name = eq >= 0 ? a[2..eq] : a[2..];
            if (name.Length == 0) throw new UsageException($"'{a}' is not an option: options are --name value");
            string value;
            if (eq >= 0) value = a[(eq + 1)..];
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) value = args[++i];
            else throw new UsageException($"option --{name} needs a value{(i + 1 < args.Length ? $" before {args[i + 1]}" : " (it ends the command line)")}");
            if (value.Length == 0) throw new UsageException($"option --{name} has an empty value");
            if (!o._named.TryAdd(name, value)) throw new UsageException($"option --{name} is given twice ('{o._named[name]}' and '{value}')");
        }
        return o;
    }

    /// <summary>The value of <c>--name</c>, or null when absent.</summary>
    public string? String(string name)
    {
        _used.Add(name);
        return _named.TryGetValue(name, out var v) ? v : null;
    }

    /// <summary>The value of <c>--name</c>, which must be one of <paramref name="allowed"/>; <paramref name="fallback"/> when absent.</summary>
    public string Choice(string name, string fallback, params string[] allowed)
    {
        var s = String(name);
        if (s is null) return fallback;
        if (Array.IndexOf(allowed, s) < 0) throw new UsageException($"--{name} expects {Alternatives(allowed)}, got '{s}'");
        return s;
    }

    /// <summary>The integer value of <c>--name</c> in [<paramref name="min"/>, <paramref name="max"/>]; <paramref name="fallback"/> when absent.</summary>
    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var s = String(name);
        if (s is null) return fallback;
        return ParseInt(s, min, max, out int v) ? v : throw new UsageException($"--{name} expects {IntRange(min, max)}, got '{s}'");
    }

    /// <summary>
    /// The finite number <c>--name</c> in [<paramref name="min"/>, <paramref name="max"/>]; <paramref name="fallback"/>
    /// when absent. Decimal point only (<c>1,5</c> is refused, not read as 15); NaN and infinities are refused.
    /// </summary>
    public double Double(string name, double fallback, double min = double.MinValue, double max = double.MaxValue)
    {
        var s = String(name);
        if (s is null) return fallback;
        return ParseDouble(s, min, max, out double v) ? v : throw new UsageException($"--{name} expects {DoubleRange(min, max)}, got '{s}'");
    }

    /// <summary>Reads an integer in the invariant culture, optional sign, no separators, within [min, max].</summary>
    public static bool ParseInt(string text, int min, int max, out int value) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    /// <summary>Reads a finite number in the invariant culture with a decimal point and optional exponent, within [min, max].</summary>
    public static bool ParseDouble(string text, double min, double max, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value) && value >= min && value <= max;

    /// <summary>"an integer from 1 to 64", "an integer >= 0" …, for messages.</summary>
    public static string IntRange(int min, int max) => (min, max) switch
    {
        (int.MinValue, int.MaxValue) => "an integer",
        (_, int.MaxValue) => string.Create(CultureInfo.InvariantCulture, $"an integer >= {min}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"an integer from {min} to {max}"),
    };

    /// <summary>"a finite number from 0 to 1" …, for messages.</summary>
    public static string DoubleRange(double min, double max) => (min, max) switch
    {
        (double.MinValue, double.MaxValue) => "a finite number",
        (_, double.MaxValue) => string.Create(CultureInfo.InvariantCulture, $"a finite number >= {min:G4}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"a finite number from {min:G4} to {max:G4}"),
    };

    private static string Alternatives(string[] allowed) =>
        allowed.Length == 1 ? allowed[0] : string.Join(", ", allowed, 0, allowed.Length - 1) + " or " + allowed[^1];

    /// <summary>
    /// Fails on any option no command asked for and on words beyond the <paramref name="positional"/> the command
    /// takes, so a typo or a stray word is never silently ignored.
    /// </summary>
    public void RejectUnknown(int positional = 0)
    {
        foreach (var k in _named.Keys)
        {
            if (!_used.Contains(k)) throw new UsageException($"unknown option --{k}");
        }
        if (_positional.Count > positional)
        {
            throw new UsageException($"unexpected word '{_positional[positional]}'{(positional == 0 ? "" : $" after {string.Join(" ", _positional.GetRange(0, positional))}")}; options are --name value");
        }
    }
}
