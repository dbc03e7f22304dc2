using System;
using System.Collections.Generic;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Layers;
using Spiking.Tensors;

namespace Spiking.Samples.Extensions;

/// <summary>
/// Extends the engine from its packages alone (no internals, no reflection) with a custom op, a custom surrogate
/// and a custom neuron, checks each against an independent computation, and trains a small network that uses them.
/// Exits with 1 when a check fails, so CI (scripts/run-samples.sh) notices.
/// </summary>
public static class Program
{
    private static int s_failures;

    public static int Main()
    {
        CheckSwish();
        CheckTriangle();
        CheckResonateAndFire();
        TrainWithThem();
        Console.WriteLine(s_failures == 0 ? "all sample checks passed" : $"{s_failures} sample check(s) failed");
        return s_failures == 0 ? 0 : 1;
    }

    private static void Expect(bool condition, string what)
    {
        Console.WriteLine($"{(condition ? "ok  " : "FAIL")}  {what}");
        if (!condition) s_failures++;
    }

    /// <summary>The custom op's backward against central differences.</summary>
    private static void CheckSwish()
    {
        var generator = new PhiloxGenerator(1);
        using var x = generator.Normal(new Shape(4, 7), 0f, 2f);
        var result = GradCheck.Check(v => SwishOp.Swish(v[0]), [x]);
        Expect(result.Passed, $"swish passes GradCheck (max abs error {result.MaxAbsError:G3})");
    }

    /// <summary>The custom surrogate built by name; its span form gives the bits of its scalar form.</summary>
    private static void CheckTriangle()
    {
        TriangleSurrogate.Register();
        var triangle = Surrogate.Create("triangle", new Dictionary<string, double> { ["width"] = 0.5 });
        var x = new float[37];
        for (int i = 0; i < x.Length; i++) x[i] = -0.9f + 0.05f * i;
        var span = new float[x.Length];
        triangle.Derivative(x, span);
        bool same = true;
        for (int i = 0; i < x.Length; i++) same &= span[i] == triangle.Derivative(x[i]);
        Expect(triangle.ToString() == "Triangle(width=0.5)" && triangle.Derivative(0f) == 2f && same, "Triangle is built by name and its span form equals its scalar form");
    }

    /// <summary>The custom neuron's fused kernel against the same equations composed from ops, and its single steps.</summary>
    private static void CheckResonateAndFire()
    {
        var model = new ResonateAndFireNeuron { Surrogate = new TriangleSurrogate(0.5f) };
        var generator = new PhiloxGenerator(2);
        var shape = new Shape(6, 3, 37);
        using var values = generator.Normal(shape, 0.4f, 0.6f);
        using var gradient = generator.Normal(shape);

        using var fusedInput = Variable.Input(values.Clone());
        using var fused = Functional.Neuron(fusedInput, model);
        fused.Backward(gradient);
        using var composedInput = Variable.Input(values.Clone());
        using var composed = Composed(composedInput, model);
        composed.Backward(gradient);
        using var fusedSpikes = fused.ToDense();
        using var composedSpikes = composed.ToDense();
        Expect(Same(fusedSpikes, composedSpikes, 0), $"resonate-and-fire spikes equal the op composition's ({Count(fusedSpikes)} spikes)");
        Expect(Same(fusedInput.Grad!, composedInput.Grad!, 1e-5), "resonate-and-fire dL/dx equals the op composition's");

        using var neuron = new SingleStepNeuron(model);
        bool stepsAgree = true;
        for (int t = 0; t < shape[0]; t++)
        {
            using var xt = Variable.Constant(values[t].Clone());
            using var st = neuron.Step(xt);
            using var dense = st.ToDense();
            using var expected = fusedSpikes[t];
            stepsAgree &= Same(dense, expected, 0);
        }
        Expect(stepsAgree, "resonate-and-fire single steps equal the multi-step op");
    }

    /// <summary>The same neuron from autograd ops: what a user would write without a fused kernel.</summary>
    private static Variable Composed(Variable x, ResonateAndFireNeuron model)
    {
        float c = (float)(model.Damping * Math.Cos(model.Omega)), s = (float)(model.Damping * Math.Sin(model.Omega));
        var u = Variable.Constant(Tensor.Zeros(x.Shape.DropLeading()));
        var w = Variable.Constant(Tensor.Zeros(x.Shape.DropLeading()));
        var outputs = new List<Variable>();
        foreach (var xt in Functional.Unbind(x, 0))
        {
            var a = u * c - w * s + xt;
            var b = u * s + w * c;
            var spike = Functional.Spike(b, model.Surrogate!, model.VThreshold);
            var reset = spike.Detach();
            u = a - a * reset;
            w = b - b * reset;
            outputs.Add(spike);
        }
        return Functional.Stack(outputs, 0);
    }

    /// <summary>A network using all three learns: the loss after 30 Adam steps is below the first one.</summary>
    private static void TrainWithThem()
    {
        ModelSeed.Seed(3);
        using var net = new Sequential(
            new Linear(12, 32),
            new SpikingNeuron(new ResonateAndFireNeuron { Surrogate = new TriangleSurrogate(0.5f) }),
            new Linear(32, 2),
            new LeakyIntegrateAndFire());
        var optimizer = new Adam(net.Parameters(), 1e-2);
        var generator = new PhiloxGenerator(4);
        using var data = generator.Normal(new Shape(8, 16, 12), 0f, 1f);
        int[] labels = new int[16];
        for (int i = 0; i < labels.Length; i++) labels[i] = i % 2;
        using (var span = data.Reshape(8, 16, 12))
        {
            var d = span.AsSpan();
            for (int t = 0; t < 8; t++)
            {
                for (int b = 0; b < 16; b++) d[(t * 16 + b) * 12] += labels[b] == 1 ? 1.5f : -1.5f;
            }
        }
        float first = 0, last = 0;
        for (int step = 0; step < 30; step++)
        {
            using var scope = DisposeScope.Begin();
            using var input = Variable.Constant(data.Clone());
            var hidden = net.Forward(input);
            var loss = Losses.FiringRateMse(hidden, labels);
            // The custom op in the loss path too: swish of the loss is monotone, so minimising it minimises the loss.
            var shaped = SwishOp.Swish(loss);
            optimizer.ZeroGrad();
            shaped.Backward();
            optimizer.Step();
            float value = loss.Dense.ToScalar();
            if (step == 0) first = value;
            last = value;
        }
        Expect(last < first, $"a network with the custom neuron, surrogate and op learns (loss {first:F4} -> {last:F4})");
    }

    private static bool Same(Tensor a, Tensor b, double tolerance)
    {
        var x = a.AsReadOnlySpan();
        var y = b.AsReadOnlySpan();
        if (x.Length != y.Length) return false;
        for (int i = 0; i < x.Length; i++)
        {
            if (!(Math.Abs(x[i] - y[i]) <= tolerance * (1 + Math.Abs(y[i])))) return false;
        }
        return true;
    }

    private static int Count(Tensor spikes)
    {
        int n = 0;
        foreach (float s in spikes.AsReadOnlySpan()) n += s != 0 ? 1 : 0;
        return n;
    }
}
