using BenchmarkDotNet.Running;

namespace Spiking.Bench;

/// <summary>
/// BenchmarkDotNet entry point: <c>dotnet run -c Release --project Spiking.Bench -- --filter '*Spike*'</c>.
/// Each suite can time the fast kernel or its plain reference (the <c>Impl</c> parameter).
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
