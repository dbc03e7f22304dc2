using System;
using System.Collections.Generic;
using System.Globalization;

namespace Spiking.Cli.Conformance;

/// <summary>
/// The comparisons of one golden case: spikes must be equal, every other value must satisfy
/// <c>|a − b| &lt;= AbsoluteTolerance + RelativeTolerance·|b|</c> (b the reference). Keeps the largest absolute error,
/// the largest relative error (over reference values of magnitude at least <see cref="AbsoluteTolerance"/>; smaller ones
/// are judged by the absolute part) and the first failure of each field.
/// </summary>
public sealed class CaseCheck
{
    /// <summary>The absolute part of the tolerance (float32 engine against float64 references).</summary>
    public const double AbsoluteTolerance = 1e-6;

    /// <summary>The relative part of the tolerance.</summary>
    public const double RelativeTolerance = 1e-5;

    private readonly List<string> _failures = [];

    /// <summary>The largest |a − b| over every compared value.</summary>
    public double MaxAbsError { get; private set; }

    /// <summary>The largest |a − b| / |b| over every compared value whose reference has |b| &gt;= <see cref="AbsoluteTolerance"/>.</summary>
    public double MaxRelError { get; private set; }

    /// <summary>How many values (spikes included) were compared; a case that compared none checked nothing.</summary>
    public long Compared { get; private set; }

    /// <summary>True while nothing failed.</summary>
    public bool Passed => _failures.Count == 0;

    /// <summary>What failed, one entry per field.</summary>
    public IReadOnlyList<string> Failures => _failures;

    /// <summary>Compares values within tolerance.</summary>
    public void Values(string field, ReadOnlySpan<double> expected, ReadOnlySpan<float> actual)
    {
        if (!SameLength(field, expected.Length, actual.Length)) return;
        Compared += expected.Length;
        string? first = null;
        int bad = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double b = expected[i], a = actual[i];
            double err = Math.Abs(a - b);
            if (double.IsNaN(err)) err = double.PositiveInfinity;
            MaxAbsError = Math.Max(MaxAbsError, err);
            if (Math.Abs(b) >= AbsoluteTolerance) MaxRelError = Math.Max(MaxRelError, err / Math.Abs(b));
            if (!(err <= AbsoluteTolerance + RelativeTolerance * Math.Abs(b)))
            {
                bad++;
                first ??= string.Create(CultureInfo.InvariantCulture, $"element {i} is {a:G9}, expected {b:G17}");
            }
        }
        if (bad > 0) _failures.Add($"{field}: {bad} of {expected.Length} values out of tolerance (first: {first})");
    }

    /// <summary>Compares one value within tolerance.</summary>
    public void Value(string field, double expected, double actual) =>
        Values(field, [expected], [(float)actual]);

    /// <summary>Compares spikes exactly (the reference holds 0.0 and 1.0).</summary>
    public void Spikes(string field, ReadOnlySpan<double> expected, ReadOnlySpan<float> actual)
    {
        if (!SameLength(field, expected.Length, actual.Length)) return;
        Compared += expected.Length;
        int bad = 0, first = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i])
            {
                bad++;
                if (first < 0) first = i;
            }
        }
        if (bad > 0)
        {
            _failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{field}: {bad} of {expected.Length} spikes differ (first at element {first}: {actual[first]}, expected {expected[first]})"));
        }
    }

    private bool SameLength(string field, int expected, int actual)
    {
        if (expected == actual) return true;
        _failures.Add($"{field}: {actual} values, expected {expected}");
        return false;
    }
}
