using System;
using System.Collections.Generic;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Xunit;

namespace Spiking.Tests.Surrogates;

/// <summary>A user-defined surrogate: a triangle of half-width <paramref name="width"/> and area 1 (only Derivative is overridden).</summary>
public sealed class TriangleSurrogate(float width) : Surrogate
{
    public override string Name => "Triangle";

    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["width"] = width };

    public override float Derivative(float x) => MathF.Max(0f, 1f - MathF.Abs(x) / width) / width;
}

public sealed class SurrogateTests
{
    public static TheoryData<Surrogate> All() =>
    [
        new Sigmoid(), new ATan(), new PiecewiseQuadratic(), new SoftSign(), new Erf(), new PiecewiseLeakyReLU(), new Rect(),
        new Sigmoid(1.5), new ATan(0.7), new PiecewiseQuadratic(3), new SoftSign(0.3), new Erf(5), new PiecewiseLeakyReLU(0.3, 0), new Rect(7),
    ];

    [Fact]
    public void Defaults_are_SpikingJellys()
    {
        Assert.Equal(4.0, new Sigmoid().Alpha);
        Assert.Equal(2.0, new ATan().Alpha);
        Assert.Equal(1.0, new PiecewiseQuadratic().Alpha);
        Assert.Equal(2.0, new SoftSign().Alpha);
        Assert.Equal(2.0, new Erf().Alpha);
        Assert.Equal(1.0, new PiecewiseLeakyReLU().W);
        Assert.Equal(0.01, new PiecewiseLeakyReLU().C);
        Assert.Equal(1.0, new Rect().Alpha);
        var neuron = NeuronOptions.Lif();
        Assert.IsType<Sigmoid>(neuron.Surrogate);
        Assert.Equal("Sigmoid(alpha=4)", neuron.Surrogate.ToString());
        Assert.Equal("PiecewiseLeakyReLU(w=1, c=0.01)", new PiecewiseLeakyReLU().ToString());
    }

    [Fact]
    public void The_spike_at_zero_is_one()
    {
        Assert.Equal(1f, Surrogate.Heaviside(0f));
        Assert.Equal(1f, Surrogate.Heaviside(-0f));
        Assert.Equal(0f, Surrogate.Heaviside(-float.Epsilon));
        Assert.Equal(0f, Surrogate.Heaviside(float.NaN));
    }

    [Fact]
    public void Boundaries_follow_SpikingJelly()
    {
        Assert.Equal(0f, new PiecewiseQuadratic(2).Derivative(0.5f)); // |x| <= 1/alpha: alpha - alpha^2/alpha = 0 at the boundary
        Assert.Equal(2f - 4f * 0.25f, new PiecewiseQuadratic(2).Derivative(-0.25f));
        Assert.Equal(0f, new PiecewiseQuadratic(2).Derivative(0.5000001f));
        Assert.Equal(0.1f, new PiecewiseLeakyReLU(0.5, 0.1).Derivative(0.5f)); // |x| == w gives c
        Assert.Equal(1f, new PiecewiseLeakyReLU(0.5, 0.1).Derivative(0.4999999f));
        Assert.Equal(0f, new Rect(2).Derivative(0.25f)); // |x| == 0.5/alpha gives 0
        Assert.Equal(2f, new Rect(2).Derivative(-0.2499999f));
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Vector_path_matches_the_scalar_one_and_never_gives_NaN(Surrogate surrogate)
    {
        var rng = new Random(11);
        var x = new float[1000];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = rng.Next(10) switch
            {
                0 => float.MaxValue * (rng.Next(2) * 2 - 1),
                1 => (float)(rng.NextDouble() * 2e6 - 1e6),
                2 => i % 2 == 0 ? float.PositiveInfinity : float.NegativeInfinity,
                3 => 0f,
                _ => (float)(Reference.Normal(rng) * 2),
            };
        }
        var vector = new float[x.Length];
        surrogate.Derivative(x, vector);
        for (int i = 0; i < x.Length; i++)
        {
            float scalar = surrogate.Derivative(x[i]);
            Assert.False(float.IsNaN(vector[i]) || float.IsNaN(scalar), $"{surrogate} gave NaN at x = {x[i]}");
            Assert.True(vector[i] >= 0 && scalar >= 0, $"{surrogate} is negative at x = {x[i]}");
            Assert.True(Math.Abs(vector[i] - scalar) <= 1e-6 * Math.Abs(scalar) + 1e-37, $"{surrogate} at x = {x[i]}: vector {vector[i]}, scalar {scalar}");
        }

        var inPlace = (float[])x.Clone();
        surrogate.Derivative(inPlace, inPlace);
        Assert.Equal(vector, inPlace);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Float_values_match_the_double_formula(Surrogate surrogate)
    {
        var rng = new Random(5);
        for (int i = 0; i < 2000; i++)
        {
            float x = (float)(Reference.Normal(rng) * 1.5);
            double expected = Neurons.NeuronReference.SurrogateDerivative(surrogate, x);
            Assert.True(Math.Abs(surrogate.Derivative(x) - expected) <= 1e-6 * Math.Abs(expected) + 1e-7,
                $"{surrogate} at x = {x}: {surrogate.Derivative(x)}, expected {expected}");
        }
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 50)]
    public void Spans_of_any_length_are_filled_like_the_scalar_path(TensorCase c)
    {
        var x = c.Values();
        foreach (var surrogate in new Surrogate[] { new Sigmoid(), new ATan(), new Rect(), new TriangleSurrogate(0.5f) })
        {
            var result = new float[x.Length];
            surrogate.Derivative(x, result);
            for (int i = 0; i < x.Length; i++)
            {
                float scalar = surrogate.Derivative(x[i]);
                Assert.True(Math.Abs(result[i] - scalar) <= 1e-6 * scalar + 1e-37, $"{surrogate} element {i}");
            }
        }
    }

    public static TheoryData<string, Func<Surrogate>> Invalid() => new()
    {
        { "alpha", () => new Sigmoid(0) },
        { "alpha", () => new Sigmoid(-1) },
        { "alpha", () => new Sigmoid(double.NaN) },
        { "alpha", () => new ATan(0) },
        { "alpha", () => new ATan(double.PositiveInfinity) },
        { "alpha", () => new PiecewiseQuadratic(-2) },
        { "alpha", () => new SoftSign(double.NaN) },
        { "alpha", () => new Erf(0) },
        { "alpha", () => new Rect(-0.5) },
        { "w", () => new PiecewiseLeakyReLU(0, 0.01) },
        { "w", () => new PiecewiseLeakyReLU(double.NaN, 0.01) },
        { "c", () => new PiecewiseLeakyReLU(1, -0.01) },
        { "c", () => new PiecewiseLeakyReLU(1, double.NaN) },
        { "alpha", () => Surrogate.Create("ATan", new Dictionary<string, double> { ["alpha"] = -3 }) },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_parameters_name_themselves(string parameter, Func<Surrogate> create)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(create);
        Assert.Equal(parameter, e.ParamName);
        Assert.Contains(parameter, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_knows_the_seven_by_name()
    {
        foreach (var name in Surrogate.KnownNames) Assert.Equal(name, Surrogate.Create(name).Name);
        Assert.Equal(3.0, ((ATan)Surrogate.Create("atan", new Dictionary<string, double> { ["alpha"] = 3 })).Alpha);
        Assert.IsType<Rect>(Surrogate.Create("Rectangular"));
        var plr = (PiecewiseLeakyReLU)Surrogate.Create("PiecewiseLeakyReLU", new Dictionary<string, double> { ["c"] = 0.2 });
        Assert.Equal((1.0, 0.2), (plr.W, plr.C));

        var unknown = Assert.Throws<ArgumentException>(() => Surrogate.Create("Gaussian"));
        Assert.Contains("'Gaussian'", unknown.Message, StringComparison.Ordinal);
        foreach (var name in Surrogate.KnownNames) Assert.Contains(name, unknown.Message, StringComparison.Ordinal);

        var badKey = Assert.Throws<ArgumentException>(() => Surrogate.Create("Sigmoid", new Dictionary<string, double> { ["beta"] = 1 }));
        Assert.Contains("'beta'", badKey.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_user_surrogate_needs_only_Derivative()
    {
        var triangle = new TriangleSurrogate(0.5f);
        var x = new float[] { -1f, -0.25f, 0f, 0.25f, 0.5f, 3f };
        var result = new float[x.Length];
        triangle.Derivative(x, result);
        Assert.Equal(new[] { 0f, 1f, 2f, 1f, 0f, 0f }, result);
        Assert.Equal("Triangle(width=0.5)", triangle.ToString());
        Assert.Throws<ArgumentException>(() => triangle.Derivative(x, new float[2]));
    }
}
