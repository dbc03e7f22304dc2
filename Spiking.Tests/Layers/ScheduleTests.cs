using System;
using Spiking.Layers;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Layers;

public sealed class ScheduleTests
{
    private static Parameter NewParameter() => new(Tensor.Zeros(2), "w");

    [Theory]
    [InlineData(0.1, 10, 0.0)]
    [InlineData(0.05, 3, 1e-3)]
    [InlineData(1.0, 1, 0.5)]
    public void CosineAnnealing_follows_the_closed_form(double baseLr, int tMax, double etaMin)
    {
        using var p = NewParameter();
        var optimizer = new Sgd([p], baseLr);
        var schedule = new CosineAnnealingLR(optimizer, tMax, etaMin);
        Assert.Equal(baseLr, optimizer.LearningRate, 15);
        for (int epoch = 1; epoch <= 3 * tMax; epoch++)
        {
            schedule.Step();
            Assert.Equal(epoch, schedule.Epoch);
            double expected = etaMin + (baseLr - etaMin) * (1 + Math.Cos(Math.PI * epoch / tMax)) / 2;
            Assert.Equal(expected, optimizer.LearningRate, 12);
            if (epoch == tMax) Assert.Equal(etaMin, optimizer.LearningRate, 12);
        }
    }

    [Theory]
    [InlineData(0.1, 3, 0.1)]
    [InlineData(1e-3, 1, 0.5)]
    [InlineData(0.2, 5, 1.0)]
    public void StepLR_decays_every_step_size_epochs(double baseLr, int stepSize, double gamma)
    {
        using var p = NewParameter();
        var optimizer = new Adam([p], baseLr);
        var schedule = new StepLR(optimizer, stepSize, gamma);
        Assert.Equal(baseLr, optimizer.LearningRate);
        double expected = baseLr;
        for (int epoch = 1; epoch <= 4 * stepSize + 1; epoch++)
        {
            schedule.Step();
            if (epoch % stepSize == 0) expected *= gamma;
            Assert.Equal(expected, optimizer.LearningRate, 14);
        }
    }

    [Fact]
    public void Schedules_take_the_rate_set_before_them_as_base_and_reject_bad_arguments()
    {
        using var p = NewParameter();
        var optimizer = new Sgd([p], 0.4);
        optimizer.LearningRate = 0.2;
        var schedule = new StepLR(optimizer, 2, 0.5);
        Assert.Equal(0.2, schedule.BaseLearningRate);
        Assert.Equal(0.05, schedule.LearningRateAt(5), 15);
        Assert.Equal("maxEpochs", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealingLR(optimizer, 0)).ParamName);
        Assert.Equal("minLearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealingLR(optimizer, 5, -1)).ParamName);
        Assert.Equal("stepSize", Assert.Throws<ArgumentOutOfRangeException>(() => new StepLR(optimizer, 0)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentOutOfRangeException>(() => new StepLR(optimizer, 1, double.NaN)).ParamName);
    }

    /// <summary>
    /// Stepped once per optimizer step, cosine annealing to a final rate is SpikeGPT's schedule as the peer writes it:
    /// <c>lr·((0.5 + f/2) + (0.5 − f/2)·cos(π·i/steps))</c>, f = final / lr.
    /// </summary>
    [Fact]
    public void Per_step_cosine_annealing_is_the_spikegpt_decay_to_a_final_rate()
    {
        using var p = new Parameter(Tensor.Zeros(1));
        using var optimizer = new Adam([p], 6e-4);
        const int steps = 1000;
        var schedule = new CosineAnnealingLR(optimizer, steps, minLearningRate: 1e-5);
        double f = 1e-5 / 6e-4;
        for (int i = 0; i <= steps; i++)
        {
            Assert.Equal(6e-4 * ((0.5 + f / 2) + (0.5 - f / 2) * Math.Cos(Math.PI * i / steps)), optimizer.LearningRate, 1e-15);
            schedule.Step();
        }
    }
}
