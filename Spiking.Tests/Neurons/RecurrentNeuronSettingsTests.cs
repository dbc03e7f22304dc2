using System;
using System.Collections.Generic;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Layers;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>The settings of QIF, EIF, Izhikevich, ALIF and CubaLIF: ranges, SpikingJelly's names and defaults, the catalog.</summary>
public sealed class RecurrentNeuronSettingsTests
{
    public static TheoryData<string, string, string> InvalidSettings() => new()
    {
        { "QIF", "tau", "1" },
        { "QIF", "a0", "0" },
        { "QIF", "v_c", "NaN" },
        { "QIF", "v_rest", "Infinity" },
        { "QIF", "v_threshold", "NaN" },
        { "EIF", "tau", "0.5" },
        { "EIF", "delta_T", "0" },
        { "EIF", "theta_rh", "NaN" },
        { "EIF", "v_rest", "NaN" },
        { "Izhikevich", "tau", "1" },
        { "Izhikevich", "a0", "-1" },
        { "Izhikevich", "tau_w", "0" },
        { "Izhikevich", "a", "NaN" },
        { "Izhikevich", "b", "Infinity" },
        { "Izhikevich", "w_rest", "NaN" },
        { "Izhikevich", "v_c", "NaN" },
        { "Izhikevich", "v_reset", "NaN" },
        { "ALIF", "tau", "1" },
        { "ALIF", "tau_adapt", "0" },
        { "ALIF", "rho", "1" },
        { "ALIF", "rho", "-0.1" },
        { "ALIF", "beta", "NaN" },
        { "CubaLIF", "tau_syn", "1" },
        { "CubaLIF", "tau_mem", "0.5" },
        { "CubaLIF", "r", "NaN" },
        { "CubaLIF", "v_leak", "Infinity" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void An_invalid_setting_is_named_with_its_value(string model, string setting, string value)
    {
        double v = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Build(model, setting, v));
        Assert.Equal(setting, e.ParamName);
        Assert.Contains(setting, e.Message, StringComparison.Ordinal);
        Assert.Contains(value, e.Message, StringComparison.Ordinal);
        // The catalog reports the same, from SpikingJelly's keyword.
        var fromCatalog = Assert.Throws<ArgumentOutOfRangeException>(() => NeuronCatalog.Create(new NeuronSettings(model + "Node", new Dictionary<string, object?> { [setting] = v })));
        Assert.Equal(setting, fromCatalog.ParamName);
    }

    [Fact]
    public void The_catalog_names_an_unknown_or_mistyped_keyword()
    {
        var unknown = Assert.Throws<ArgumentException>(() => NeuronCatalog.Create(new NeuronSettings("QIFNode", new Dictionary<string, object?> { ["tau_w"] = 2.0 })));
        Assert.Contains("'tau_w'", unknown.Message, StringComparison.Ordinal);
        var mistyped = Assert.Throws<ArgumentException>(() => NeuronCatalog.Create(new NeuronSettings("CubaLIFNode", new Dictionary<string, object?> { ["tau_syn"] = "fast" })));
        Assert.Contains("'tau_syn'", mistyped.Message, StringComparison.Ordinal);
        Assert.Contains("\"fast\"", mistyped.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_are_SpikingJellys()
    {
        Assert.Equal("QIF(tau=2, v_c=0.8, a0=1, v_rest=0, v_threshold=1, v_reset=-0.1, detach_reset=False, surrogate=Sigmoid(alpha=4))", Default("QIFNode").ToString());
        Assert.Equal("EIF(tau=2, delta_T=1, theta_rh=0.8, v_rest=0, v_threshold=1, v_reset=-0.1, detach_reset=False, surrogate=Sigmoid(alpha=4))", Default("EIFNode").ToString());
        Assert.Equal("Izhikevich(tau=2, v_c=0.8, a0=1, v_rest=-0.1, w_rest=0, tau_w=2, a=0, b=0, v_threshold=1, v_reset=0, detach_reset=False, surrogate=Sigmoid(alpha=4))",
            Default("IzhikevichNode").ToString());
        Assert.Equal($"ALIF(tau=2, decay_input=True, tau_adapt=20, rho={Math.Exp(-1.0 / 20).ToString("R", System.Globalization.CultureInfo.InvariantCulture)}, beta=1.8, " +
            "v_threshold=1, v_reset=0, detach_reset=False, surrogate=Sigmoid(alpha=4))", Default("ALIFNode").ToString());
        Assert.Equal("CubaLIF(tau_syn=2, tau_mem=2, r=1, v_leak=0, v_threshold=1, v_reset=0, detach_reset=False, surrogate=Sigmoid(alpha=4))", Default("CubaLIFNode").ToString());
        Assert.Equal(new QifNeuron().ToString(), Default("QIFNode").ToString());
        Assert.Equal(new EifNeuron().ToString(), Default("EIFNode").ToString());
        Assert.Equal(new IzhikevichNeuron().ToString(), Default("IzhikevichNode").ToString());
        Assert.Equal(new AdaptiveLifNeuron().ToString(), Default("ALIFNode").ToString());
        Assert.Equal(new CubaLifNeuron().ToString(), Default("CubaLIFNode").ToString());
    }

    [Fact]
    public void Every_keyword_of_SpikingJellys_constructors_is_read()
    {
        var surrogate = new Dictionary<string, object?> { ["name"] = "Erf", ["params"] = new Dictionary<string, object?> { ["alpha"] = 3.0 } };
        var run = new Dictionary<string, object?> { ["step_mode"] = "m", ["backend"] = "torch", ["store_v_seq"] = true };
        var qif = (QifNeuron)Create("QIFNode", new() { ["tau"] = 3.0, ["v_c"] = 0.5, ["a0"] = 0.7, ["v_threshold"] = 1.2, ["v_rest"] = 0.05, ["v_reset"] = null,
            ["surrogate_function"] = surrogate, ["detach_reset"] = true }, run);
        Assert.Equal((3.0, 0.5, 0.7, 1.2f, 0.05, (float?)null, true), (qif.Tau, qif.VC, qif.A0, qif.VThreshold, qif.VRest, qif.VReset, qif.DetachReset));
        Assert.Equal("Erf(alpha=3)", qif.Surrogate!.ToString());
        var eif = (EifNeuron)Create("EIFNode", new() { ["tau"] = 2.5, ["delta_T"] = 0.5, ["theta_rh"] = 0.6, ["v_threshold"] = 0.9, ["v_rest"] = -0.05, ["v_reset"] = -0.2,
            ["surrogate"] = surrogate, ["detach_reset"] = false }, run);
        Assert.Equal((2.5, 0.5, 0.6, 0.9f, -0.05, (float?)-0.2f), (eif.Tau, eif.DeltaT, eif.ThetaRh, eif.VThreshold, eif.VRest, eif.VReset));
        var izh = (IzhikevichNeuron)Create("IzhikevichNode", new() { ["tau"] = 4.0, ["v_c"] = 0.7, ["a0"] = 2.0, ["v_threshold"] = 1.0, ["v_reset"] = -0.1, ["v_rest"] = -0.2,
            ["w_rest"] = 0.1, ["tau_w"] = 5.0, ["a"] = 0.3, ["b"] = 0.4, ["surrogate_function"] = surrogate, ["detach_reset"] = true }, run);
        Assert.Equal((4.0, 0.7, 2.0, -0.2, 0.1, 5.0, 0.3, 0.4, (float?)-0.1f), (izh.Tau, izh.VC, izh.A0, izh.VRest, izh.WRest, izh.TauW, izh.A, izh.B, izh.VReset));
        var alif = (AdaptiveLifNeuron)Create("ALIFNode", new() { ["tau"] = 3.0, ["decay_input"] = false, ["rho"] = 0.9, ["beta"] = 0.2, ["v_reset"] = null }, run);
        Assert.Equal((3.0, false, 0.9, -1 / Math.Log(0.9), 0.2, false), (alif.Tau, alif.DecayInput, alif.Rho, alif.TauAdapt, alif.Beta, alif.HardReset));
        var cuba = (CubaLifNeuron)Create("CubaLIFNode", new() { ["tau_syn"] = 5.0, ["tau_mem"] = 10.0, ["r"] = 2.0, ["v_leak"] = 0.1, ["v_threshold"] = 0.5 }, run);
        Assert.Equal((5.0, 10.0, 2.0, 0.1, 0.5f), (cuba.TauSyn, cuba.TauMem, cuba.R, cuba.VLeak, cuba.VThreshold));
    }

    [Fact]
    public void The_state_and_saved_names_are_the_traces_names()
    {
        Assert.Equal(["v"], new QifNeuron().StateNames);
        Assert.Equal(["v"], new EifNeuron().StateNames);
        Assert.Equal(["v", "w"], new IzhikevichNeuron().StateNames);
        Assert.Equal(["v", "a"], new AdaptiveLifNeuron().StateNames);
        Assert.Equal(["h", "theta"], new AdaptiveLifNeuron().SavedNames);
        Assert.Equal(["v", "i"], new CubaLifNeuron().StateNames);
        foreach (NeuronModel model in new NeuronModel[] { new QifNeuron(), new EifNeuron(), new IzhikevichNeuron(), new CubaLifNeuron() })
        {
            Assert.Equal(["h"], model.SavedNames);
            Assert.Empty(model.Parameters);
        }
    }

    private static NeuronModel Default(string node)
    {
        using var layer = (SpikingNeuron)NeuronCatalog.Create(new NeuronSettings(node, new Dictionary<string, object?>()));
        return layer.Model;
    }

    private static NeuronModel Create(string node, Dictionary<string, object?> values, Dictionary<string, object?> run)
    {
        foreach (var (k, v) in run) values[k] = v;
        using var layer = (SpikingNeuron)NeuronCatalog.Create(new NeuronSettings(node, values));
        return layer.Model;
    }

    private static NeuronModel Build(string model, string setting, double v) => (model, setting) switch
    {
        ("QIF", "tau") => new QifNeuron { Tau = v },
        ("QIF", "a0") => new QifNeuron { A0 = v },
        ("QIF", "v_c") => new QifNeuron { VC = v },
        ("QIF", "v_rest") => new QifNeuron { VRest = v },
        ("QIF", "v_threshold") => new QifNeuron { VThreshold = (float)v },
        ("EIF", "tau") => new EifNeuron { Tau = v },
        ("EIF", "delta_T") => new EifNeuron { DeltaT = v },
        ("EIF", "theta_rh") => new EifNeuron { ThetaRh = v },
        ("EIF", "v_rest") => new EifNeuron { VRest = v },
        ("Izhikevich", "tau") => new IzhikevichNeuron { Tau = v },
        ("Izhikevich", "a0") => new IzhikevichNeuron { A0 = v },
        ("Izhikevich", "tau_w") => new IzhikevichNeuron { TauW = v },
        ("Izhikevich", "a") => new IzhikevichNeuron { A = v },
        ("Izhikevich", "b") => new IzhikevichNeuron { B = v },
        ("Izhikevich", "w_rest") => new IzhikevichNeuron { WRest = v },
        ("Izhikevich", "v_c") => new IzhikevichNeuron { VC = v },
        ("Izhikevich", "v_reset") => new IzhikevichNeuron { VReset = (float)v },
        ("ALIF", "tau") => new AdaptiveLifNeuron { Tau = v },
        ("ALIF", "tau_adapt") => new AdaptiveLifNeuron { TauAdapt = v },
        ("ALIF", "rho") => new AdaptiveLifNeuron { Rho = v },
        ("ALIF", "beta") => new AdaptiveLifNeuron { Beta = v },
        ("CubaLIF", "tau_syn") => new CubaLifNeuron { TauSyn = v },
        ("CubaLIF", "tau_mem") => new CubaLifNeuron { TauMem = v },
        ("CubaLIF", "r") => new CubaLifNeuron { R = v },
        ("CubaLIF", "v_leak") => new CubaLifNeuron { VLeak = v },
        _ => throw new ArgumentException($"no builder for {model}.{setting}", nameof(setting)),
    };
}
