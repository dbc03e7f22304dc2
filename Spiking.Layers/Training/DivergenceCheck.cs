using System.Collections.Generic;

namespace Spiking.Layers;

/// <summary>
/// The scan of updated parameters every trainer runs after its optimizer step, one vectorised pass per parameter:
/// a non-finite gradient always makes its parameter non-finite (the optimizers' updates carry NaN and infinities
/// through), so only a parameter that fails costs a look at its gradient, to say which of the two went first.
/// Parameters held on a device are skipped (scanning them would copy them to the host every step).
/// </summary>
internal static class DivergenceCheck
{
    /// <exception cref="TrainingDivergedException">A parameter (or the gradient that made it so) is not finite.</exception>
    public static void ThrowIfNonFinite(IReadOnlyList<Parameter> parameters, IReadOnlyDictionary<Parameter, string> names, int step, double learningRate)
    {
        foreach (var parameter in parameters)
        {
            var value = parameter.Value;
            if (!value.IsOnHost) continue;
            var values = value.AsReadOnlySpan();
            int bad = FiniteValues.IndexOfNonFinite(values);
            if (bad < 0) continue;
            string name = names.TryGetValue(parameter, out var n) ? n : parameter.Variable.Name ?? "(unnamed)";
            if (parameter.Grad is { IsOnHost: true } grad)
            {
                var gradient = grad.AsReadOnlySpan();
                int badGradient = FiniteValues.IndexOfNonFinite(gradient);
                if (badGradient >= 0) throw new TrainingDivergedException(step, "gradient", name, gradient[badGradient], learningRate);
            }
            throw new TrainingDivergedException(step, "parameter", name, values[bad], learningRate);
        }
    }
}
