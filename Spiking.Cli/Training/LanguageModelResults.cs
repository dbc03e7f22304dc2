using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;
using Spectre.Console;
using Spiking.Layers;

namespace Spiking.Cli.Training;

/// <summary>
/// The evaluation of a language model as the train and eval commands report it: validation and test bits per
/// character, the test pass's firing rates and energy, printed and written as one JSON line with the reference
/// script's keys where they overlap.
/// </summary>
internal sealed class LanguageModelResults
{
    public required LanguageModelScore Validation { get; init; }

    public required LanguageModelScore Test { get; init; }

    public required double EvalSeconds { get; init; }

    public EnergyReport Energy => Test.Energy!;

    /// <summary>Scores the validation and test parts (energy on the test pass), timing both.</summary>
    public static LanguageModelResults Evaluate(LanguageModel model, Layers.Data.TextSplits splits, int context)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var validation = LanguageModelEvaluation.Evaluate(model, splits.Validation, context);
        var test = LanguageModelEvaluation.Evaluate(model, splits.Test, context, countEnergy: true);
        return new LanguageModelResults { Validation = validation, Test = test, EvalSeconds = clock.Elapsed.TotalSeconds };
    }

    /// <summary>Prints the BPC line, the firing rates and the energy line.</summary>
    public void Print()
    {
        AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, "val_bpc [bold]{0:F4}[/]  test_bpc [bold]{1:F4}[/]  ({2} test characters, eval {3:F1} s)",
            Validation.BitsPerCharacter, Test.BitsPerCharacter, Test.Characters, EvalSeconds);
        var rates = new List<string>();
        foreach (var r in Energy.FiringRates) rates.Add(string.Create(CultureInfo.InvariantCulture, $"{r.Name} {r.Rate:F4}"));
        AnsiConsole.WriteLine($"firing rates (test): {string.Join("  ", rates)}");
        // A language model has some thirty synaptic layers: the line gives the totals, --json each layer.
        int dense = 0, spiking = 0;
        foreach (var l in Energy.Layers)
        {
            if (l.MultiplyAccumulates > 0) dense++;
            else spiking++;
        }
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"energy per character {Energy.Microjoules:F3} µJ = {Energy.MultiplyAccumulates / 1e6:F3} M MACs ({dense} layers with dense input) + {Energy.SynapticOperations / 1e6:F3} M SOPs ({spiking} layers with spike input); 0.9 pJ per SOP, 4.6 pJ per MAC (45 nm); neuron updates not counted; per layer in --json"));
    }

    /// <summary>The firing rates as the plot takes them.</summary>
    public List<(string, double)> Rates()
    {
        var rates = new List<(string, double)>();
        foreach (var r in Energy.FiringRates) rates.Add((r.Name, r.Rate));
        return rates;
    }

    /// <summary>
    /// Appends one JSON object to <paramref name="path"/>: the fields of <paramref name="head"/> first (strings, whole
    /// numbers, doubles; non-finite as null), then BPC, eval time, firing rates, energy and peak RSS.
    /// </summary>
    public void WriteJson(string path, IEnumerable<KeyValuePair<string, object?>> head) =>
        JsonLines.AppendObject(path, w =>
        {
            JsonLines.Fields(w, head);
            JsonLines.Number(w, "val_bpc", Validation.BitsPerCharacter);
            JsonLines.Number(w, "test_bpc", Test.BitsPerCharacter);
            w.WriteNumber("test_chars", Test.Characters);
            JsonLines.Number(w, "eval_s", EvalSeconds);
            w.WriteStartObject("firing_rates");
            foreach (var r in Energy.FiringRates) JsonLines.Number(w, r.Name, r.Rate);
            w.WriteEndObject();
            JsonLines.Energy(w, Energy, "char");
            JsonLines.Number(w, "peak_rss_mb", MachineInfo.PeakRssMib());
            w.WriteString("cpu", MachineInfo.CpuName());
            w.WriteString("simd", MachineInfo.SimdName());
        });
}
