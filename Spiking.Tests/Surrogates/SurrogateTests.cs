using System;
using System.Collections.Generic;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors.Kernels;
using Spiking.Tests.Neurons;
using Xunit;

namespace Spiking.Tests.Surrogates;

/// <summary>A user-defined surrogate: a triangle of half-width <paramref name="width"/> and area 1 (only Derivative is overridden).</summary>
public sealed class TriangleSurrogate(float width) : Surrogate
{
    public override string Name => "Triangle";

    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["width"] = width };

    public override float Derivative(float x) => MathF.Max(0f, 1f - MathF.Abs(x) / width) / width;
}

/// <summary>The same triangle written once as an operator struct, so the neurons fuse it into their backward.</summary>
public sealed class FusedTriangleSurrogate(float width) : Surrogate<FusedTriangleSurrogate.Formula>(new Formula(width))
{
    public override string Name => "FusedTriangle";

    public override IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["width"] = width };

    public readonly struct Formula(float width) : ISurrogateFunction
    {
        public TVec Derivative<TSimd, TVec>(TVec x) where TSimd : struct, ISimd<TVec> where TVec : struct
        {
            var w = TSimd.Broadcast(width);
            return TSimd.Divide(TSimd.Max(TSimd.Zero, TSimd.Subtract(TSimd.One, TSimd.Divide(TSimd.Abs(x), w))), w);
        }
    }
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
        var neuron = TestNeurons.Lif();
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
            // One operator struct serves both paths, so they agree to the bit (the tail included).
            Assert.True(BitConverter.SingleToInt32Bits(vector[i]) == BitConverter.SingleToInt32Bits(scalar), $"{surrogate} at x = {x[i]}: vector {vector[i]}, scalar {scalar}");
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
        foreach (var name in new[] { "Sigmoid", "ATan", "PiecewiseQuadratic", "SoftSign", "Erf", "PiecewiseLeakyReLU", "Rect" })
        {
            Assert.Contains(name, Surrogate.KnownNames);
            Assert.Equal(name, Surrogate.Create(name).Name);
        }
        Assert.Equal(3.0, ((ATan)Surrogate.Create("atan", new Dictionary<string, double> { ["alpha"] = 3 })).Alpha);
        Assert.IsType<Rect>(Surrogate.Create("Rectangular"));
        var plr = (PiecewiseLeakyReLU)Surrogate.Create("PiecewiseLeakyReLU", new Dictionary<string, double> { ["c"] = 0.2 });
        Assert.Equal((1.0, 0.2), (plr.W, plr.C));

        // Another test may register a name meanwhile: the names known before the call must all be listed.
        var known = Surrogate.KnownNames;
        var unknown = Assert.Throws<ArgumentException>(() => Surrogate.Create("Gaussian"));
        Assert.Contains("'Gaussian'", unknown.Message, StringComparison.Ordinal);
        foreach (var name in known) Assert.Contains(name, unknown.Message, StringComparison.Ordinal);

        var badKey = Assert.Throws<ArgumentException>(() => Surrogate.Create("Sigmoid", new Dictionary<string, double> { ["beta"] = 1 }));
        Assert.Contains("'beta'", badKey.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_registered_surrogate_is_built_by_name_with_its_parameters()
    {
        Surrogate.Register("TestTriangle", p =>
        {
            Surrogate.RejectUnknown(p, "TestTriangle", "width");
            return new FusedTriangleSurrogate((float)(p.TryGetValue("width", out var w) ? w : 1.0));
        });
        Assert.Contains("TestTriangle", Surrogate.KnownNames);
        var built = Surrogate.Create("testtriangle", new Dictionary<string, double> { ["width"] = 0.25 });
        Assert.Equal("FusedTriangle(width=0.25)", built.ToString());
        Assert.Equal(4f, built.Derivative(0f));
        var badKey = Assert.Throws<ArgumentException>(() => Surrogate.Create("TestTriangle", new Dictionary<string, double> { ["alpha"] = 1 }));
        Assert.Contains("'alpha'", badKey.Message, StringComparison.Ordinal);
        var builtIn = Assert.Throws<ArgumentException>(() => Surrogate.Register("atan", _ => new ATan()));
        Assert.Contains("built-in", builtIn.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Surrogate.Register(" ", _ => new ATan()));
    }

    [Fact]
    public void A_fused_user_surrogate_gives_the_bits_of_its_per_element_twin()
    {
        var perElement = new TriangleSurrogate(0.5f);
        var fused = new FusedTriangleSurrogate(0.5f);
        var rng = new Random(3);
        var x = new float[203];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 1.4 - 0.7);
        var a = new float[x.Length];
        var b = new float[x.Length];
        perElement.Derivative(x, a);
        fused.Derivative(x, b);
        Assert.Equal(a, b);
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
