using System;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Spiking.Cli.Training;

/// <summary>
/// Shows the progress of a run of steps (an epoch): on a terminal a live bar with the step count, running loss and
/// accuracy, samples/s and ETA; when the output is redirected (a log file, CI) a plain line every few percent, so
/// the log stays readable.
/// </summary>
public static class TrainingProgress
{
    /// <summary>
    /// Runs <paramref name="body"/>, which calls <see cref="ProgressReporter.Report"/> once per step, showing its
    /// progress on <paramref name="console"/> (default: the process's console). The body runs on the calling thread.
    /// </summary>
    /// <param name="title">What is run, e.g. <c>epoch 3/10</c>.</param>
    /// <param name="totalSteps">The number of steps the body will report.</param>
    /// <param name="body">The loop.</param>
    /// <param name="console">Where to draw; a non-interactive one gets plain lines.</param>
    /// <param name="plainEveryPercent">How often, in percent of the steps, a plain line is written.</param>
    /// <returns>The reporter, holding the final running means.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="totalSteps"/> &lt; 1 or <paramref name="plainEveryPercent"/> outside 1..100.</exception>
    public static ProgressReporter Run(string title, int totalSteps, Action<ProgressReporter> body, IAnsiConsole? console = null, int plainEveryPercent = 10)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(plainEveryPercent, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(plainEveryPercent, 100);
        var target = console ?? AnsiConsole.Console;
        // Spectre judges interactivity by the terminal's input; a redirected stdout must still get plain lines.
        bool live = target.Profile.Capabilities.Interactive && target.Profile.Capabilities.Ansi
            && (console is not null || !Console.IsOutputRedirected);
        return live ? RunLive(title, totalSteps, body, target) : RunPlain(title, totalSteps, body, target, plainEveryPercent);
    }

    private static ProgressReporter RunLive(string title, int totalSteps, Action<ProgressReporter> body, IAnsiConsole console)
    {
        ProgressTask? task = null;
        var reporter = new ProgressReporter(title, totalSteps, r => task!.Value = r.Step);
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new MetricsColumn(reporter))
            .Start(context =>
            {
                task = context.AddTask(Markup.Escape(title), maxValue: totalSteps);
                body(reporter);
                task.Value = reporter.Step;
                task.StopTask();
            });
        return reporter;
    }

    private static ProgressReporter RunPlain(string title, int totalSteps, Action<ProgressReporter> body, IAnsiConsole console, int everyPercent)
    {
        int nextPercent = everyPercent;
        var reporter = new ProgressReporter(title, totalSteps, r =>
        {
            long percent = 100L * r.Step / r.TotalSteps;
            if (percent < nextPercent && r.Step != r.TotalSteps) return;
            while (nextPercent <= percent) nextPercent += everyPercent;
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Title}: {percent,3}%  {r.Describe()}"));
        });
        body(reporter);
        return reporter;
    }

    /// <summary>The text after the bar: steps, running loss and accuracy, samples/s, ETA.</summary>
    private sealed class MetricsColumn(ProgressReporter reporter) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) => new Text(reporter.Describe());
    }
}
