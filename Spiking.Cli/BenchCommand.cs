namespace Spiking.Cli;

/// <summary><c>spiking bench &lt;suite&gt;</c>: timings in the JSON-lines format of the PyTorch peers.</summary>
internal static class BenchCommand
{
    public static int Run(Options options)
    {
        var suite = options.Positional.Count > 0 ? options.Positional[0] : throw new UsageException("bench needs a suite: kernels, neurons, attention, saved or onb");
        return suite switch
        {
            "kernels" => KernelBench.Run(options),
            "neurons" => NeuronBench.Run(options),
            "attention" => AttentionBench.Run(options),
            "saved" => SavedBench.Run(options),
            "onb" => OnbBench.Run(options),
            _ => throw new UsageException($"unknown bench suite '{suite}'; expected: kernels, neurons, attention, saved, onb"),
        };
    }
}
