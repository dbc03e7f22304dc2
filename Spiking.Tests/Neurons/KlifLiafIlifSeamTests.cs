using System;
using Spiking.Autograd;
using Spiking.Autograd.Neurons;
using Spiking.Autograd.Surrogates;
using Spiking.Tensors;
using Spiking.Tests.Backends;
using Xunit;

namespace Spiking.Tests.Neurons;

/// <summary>The KLIF, LIAF and ILIF models give the same bits on one thread and on two.</summary>
[Collection("Parallelism")]
public sealed class KlifLiafIlifThreadTests
{
    public static TheoryData<string> Models() => new() { "KLIF", "KLIF scaled", "LIAF", "ILIF" };

    [Theory]
    [MemberData(nameof(Models))]
    public void One_and_two_threads_give_the_same_bits(string name)
    {
        // [4, 64, 1000]: 16 chunks of 4 rows, so both threads get work.
        var (model, parameters, x, g, shape) = Problem(name, [4, 64, 1000]);
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = ModelHarness.Multi(model, parameters, x, g, shape);
            Parallelism.MaxThreads = 2;
            var two = ModelHarness.Multi(model, parameters, x, g, shape);
            Reference.AssertBitwise(one.Output, two.Output, "output");
            foreach (var (trace, values) in one.Traces) Reference.AssertBitwise(values, two.Traces[trace], trace);
            Reference.AssertBitwise(one.GradX, two.GradX, "dL/dx");
            Reference.AssertBitwise(one.GradParameters, two.GradParameters, "parameter gradients");
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    internal static (NeuronModel Model, float[] Parameters, float[] X, float[] G, Shape Shape) Problem(string name, int[] dims)
    {
        switch (name)
        {
            case "KLIF":
            case "KLIF scaled":
            {
                var c = new KlifCase(dims, true, name == "KLIF", false, name != "KLIF", "ATan", 1f, 0f, 2.0, 1.3f, 5);
                var (x, g) = c.Inputs();
                return (c.Model(), [c.K], x, g, c.Shape);
            }
            case "LIAF":
            {
                var c = new LiafCase(dims, LiafActivation.Tanh, true, true, true, false, "ATan", 1f, 0f, 2.0, 5);
                var (x, g) = c.Inputs();
                return (c.Model(), [], x, g, c.Shape);
            }
            default:
            {
                var c = new IlifCase(dims, 4.0 / 3.0, 0.5f, 4, null, false, 5);
                var (x, g) = c.Inputs();
                return (c.Model(), [], x, g, c.Shape);
            }
        }
    }
}

/// <summary>The KLIF, LIAF and ILIF models have no device kernel: on a device the op refuses, naming the model and the device.</summary>
[Collection(SimulatedDevice.CollectionName)]
public sealed class KlifLiafIlifDeviceTests
{
    public static TheoryData<string> Models() => new() { "KLIF", "LIAF", "ILIF" };

    [Theory]
    [MemberData(nameof(Models))]
    public void The_op_refuses_a_device_input_naming_the_model_and_the_device(string name)
    {
        var device = SimulatedDevice.Instance.Device;
        using var x = Variable.Constant(Tensor.Full(new Shape(2, 3), 0.7f).To(device));
        using var k = Variable.Parameter(Tensor.Scalar(1f));
        NeuronModel model = name switch
        {
            "KLIF" => new KlifNeuron { Surrogate = new ATan() },
            "LIAF" => new LiafNeuron { Act = LiafActivation.Sigmoid, ThresholdRelated = true, Surrogate = new ATan() },
            _ => new IlifNeuron(),
        };
        var error = Assert.Throws<NotSupportedException>(() => Functional.Neuron(x, model, model.Parameters.Count == 0 ? [] : [k]));
        Assert.Contains($"{name} neuron", error.Message, StringComparison.Ordinal);
        Assert.Contains(device.ToString(), error.Message, StringComparison.Ordinal);
    }
}
