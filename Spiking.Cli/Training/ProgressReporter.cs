using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;

namespace Spiking.Cli.Training;

/// <summary>
/// What a training loop tells <see cref="TrainingProgress"/> after each step: it keeps the running means of the
/// step losses and accuracies and the time left, for the live bar (drawn on another thread) or the plain log lines.
/// </summary>
public sealed class ProgressReporter
{
    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Action<ProgressReporter> _reported;
    private readonly double[] _recentLosses = new double[RecentSteps];
    private int _step;
    private double _lossSum, _accuracySum, _samplesPerSecond, _learningRate;
    private bool _tokens;

    /// <summary>The steps <see cref="RecentLoss"/> averages over, as the reference SpikeGPT script's log lines.</summary>
    public const int RecentSteps = 100;

    internal ProgressReporter(string title, int totalSteps, Action<ProgressReporter> reported)
    {
        Title = title;
        TotalSteps = totalSteps;
        _reported = reported;
    }

    /// <summary>What is being run, e.g. <c>epoch 3/10</c>.</summary>
    public string Title { get; }

    /// <summary>The number of steps in the run.</summary>
    public int TotalSteps { get; }

    /// <summary>The last step reported (1-based); 0 before the first.</summary>
    public int Step
    {
        get { lock (_gate) return _step; }
    }

    /// <summary>The mean of the losses reported so far (NaN before the first step).</summary>
    public double MeanLoss
    {
        get { lock (_gate) return _step == 0 ? double.NaN : _lossSum / _step; }
    }

    /// <summary>The mean of the accuracies reported so far, a fraction (NaN before the first step).</summary>
    public double MeanAccuracy
    {
        get { lock (_gate) return _step == 0 ? double.NaN : _accuracySum / _step; }
    }

    /// <summary>The throughput of the last step reported.</summary>
    public double SamplesPerSecond
    {
        get { lock (_gate) return _samplesPerSecond; }
    }

    /// <summary>The mean loss of the last <see cref="RecentSteps"/> steps reported (fewer at the start; NaN before the first).</summary>
    public double RecentLoss
    {
        get
        {
            lock (_gate)
            {
                int n = Math.Min(_step, RecentSteps);
                if (n == 0) return double.NaN;
                double sum = 0;
                for (int i = 0; i < n; i++) sum += _recentLosses[i];
                return sum / n;
            }
        }
    }

    /// <summary>Time since the run started.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>The time left at the pace so far; null before the first step.</summary>
    public TimeSpan? Remaining
    {
        get
        {
            int step = Step;
            return step == 0 ? null : _clock.Elapsed * ((double)(TotalSteps - step) / step);
        }
    }

    /// <summary>
    /// Records step <paramref name="step"/> (1-based, each once, in order): its batch loss and accuracy enter the
    /// running means; <paramref name="samplesPerSecond"/> is shown as given.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is not the next step (last + 1) or exceeds the total; an accuracy outside [0, 1]; a negative throughput.</exception>
    public void Report(int step, double loss, double accuracy, double samplesPerSecond)
    {
        if (!(accuracy >= 0 && accuracy <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(accuracy), accuracy, "Accuracy is a fraction in [0, 1].");
        }
        Record(step, loss, accuracy, samplesPerSecond, double.NaN, tokens: false);
    }

    /// <summary>
    /// Records step <paramref name="step"/> of a language model's training (1-based, each once, in order): its loss
    /// enters the means, and the line shows the learning rate and <paramref name="tokensPerSecond"/> instead of an accuracy.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is not the next step or exceeds the total; a negative throughput.</exception>
    public void ReportTokens(int step, double loss, double learningRate, double tokensPerSecond) =>
        Record(step, loss, 0, tokensPerSecond, learningRate, tokens: true);

    private void Record(int step, double loss, double accuracy, double perSecond, double learningRate, bool tokens)
    {
        lock (_gate)
        {
            if (step != _step + 1 || step > TotalSteps)
            {
                throw new ArgumentOutOfRangeException(nameof(step), step,
                    $"Progress of '{Title}' expects step {_step + 1} of {TotalSteps} next.");
            }
            if (!(perSecond >= 0))
            {
                throw new ArgumentOutOfRangeException(nameof(perSecond), perSecond, "Throughput must be >= 0.");
            }
            _recentLosses[_step % RecentSteps] = loss;
            _step = step;
            _lossSum += loss;
            _accuracySum += accuracy;
            _samplesPerSecond = perSecond;
            _learningRate = learningRate;
            _tokens = tokens;
        }
        _reported(this);
    }

    /// <summary>One line: step count, running loss and accuracy, throughput and time left.</summary>
    public string Describe()
    {
        int step = Step;
        var remaining = Remaining;
        if (_tokens)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"{step}/{TotalSteps}  loss {RecentLoss:0.0000} (last {Math.Min(step, RecentSteps)})  lr {_learningRate:0.00e+00}  {SamplesPerSecond:#,0} tokens/s  ETA {(remaining is { } t ? Format(t) : "-")}");
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"{step}/{TotalSteps}  loss {MeanLoss:0.0000}  acc {100 * MeanAccuracy:0.00}%  {SamplesPerSecond:#,0} samples/s  ETA {(remaining is { } r ? Format(r) : "-")}");
    }

    /// <summary>A duration as <c>h:mm:ss</c> (or <c>m:ss</c> under an hour).</summary>
    public static string Format(TimeSpan span) =>
        span.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}:{span.Minutes:00}:{span.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{span.Minutes}:{span.Seconds:00}");
}
