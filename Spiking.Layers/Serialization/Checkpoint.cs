using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Spiking.Tensors;

namespace Spiking.Layers.Serialization;

/// <summary>
/// Saves and loads a <see cref="Module"/>'s state dict as safetensors, under PyTorch's names, so checkpoints move
/// to and from PyTorch/SpikingJelly: float entries as F32 with their shapes, int64 buffers
/// (<c>num_batches_tracked</c>) as I64 scalars of shape <c>[]</c>.
/// </summary>
public static class Checkpoint
{
    /// <summary>Writes every state-dict entry of <paramref name="model"/> to <paramref name="path"/>, atomically (see <see cref="SafeTensorsWriter.Save"/>).</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The file to write or replace.</param>
    /// <param name="metadata">Optional string pairs for the header's <c>__metadata__</c>.</param>
    /// <param name="allowNonFinite">True to write NaN or infinite values too; by default they are refused, so a
    /// diverged model never replaces a good file.</param>
    /// <exception cref="InvalidOperationException">An entry holds NaN or an infinity (without <paramref name="allowNonFinite"/>); nothing is written.</exception>
    public static void Save(Module model, string path, IReadOnlyDictionary<string, string>? metadata = null, bool allowNonFinite = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!allowNonFinite)
        {
            foreach (var entry in model.StateDict())
            {
                if (entry.Value is null) continue;
                var values = entry.Value.AsReadOnlySpan();
                int bad = FiniteValues.IndexOfNonFinite(values);
                if (bad >= 0)
                {
                    throw new InvalidOperationException(
                        $"Not writing checkpoint '{path}': '{entry.Name}' {entry.Value.Shape} holds {values[bad]} at element {bad}; pass allowNonFinite to write it anyway.");
                }
            }
        }
        var writer = new SafeTensorsWriter();
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata) writer.AddMetadata(key, value);
        }
        foreach (var entry in model.StateDict())
        {
            if (entry.Value is not null) writer.Add(entry.Name, entry.Value);
            else writer.Add(entry.Name, entry.Counter!.Value);
        }
        writer.Save(path);
    }

    /// <summary>
    /// Reads <paramref name="path"/> into <paramref name="model"/>'s existing tensors. The file must hold exactly the
    /// model's names; float entries must be F32 (or F64, F16, BF16, converted) of the model's shape and finite
    /// (unless <paramref name="allowNonFinite"/>), int64 entries an integer scalar. Everything is checked before
    /// anything is written, so a failed load leaves the model as it was. Writes go through
    /// <see cref="Tensor.AsSpan"/>, so every tensor's <see cref="Tensor.Version"/> moves.
    /// </summary>
    /// <param name="model">The model to fill.</param>
    /// <param name="path">The safetensors file.</param>
    /// <param name="allowNonFinite">True to accept NaN and infinite weights (to inspect a diverged model).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not valid safetensors, does not match the model, or holds
    /// non-finite values; the message lists every problem.</exception>
    public static void Load(Module model, string path, bool allowNonFinite = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        Load(model, SafeTensors.Read(path), allowNonFinite);
    }

    /// <summary>Reads an already parsed safetensors file into <paramref name="model"/>, as <see cref="Load(Module, string, bool)"/> does.</summary>
    /// <param name="model">The model to fill.</param>
    /// <param name="file">The parsed file (<see cref="SafeTensors.Read"/>), for a caller that also reads its metadata.</param>
    /// <param name="allowNonFinite">True to accept NaN and infinite weights.</param>
    /// <exception cref="InvalidDataException">The file does not match the model or holds non-finite values; the model is unchanged.</exception>
    public static void Load(Module model, SafeTensorsFile file, bool allowNonFinite = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(file);
        string path = file.Source;
        var state = model.StateDict();
        var problems = new StringBuilder();
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in state)
        {
            wanted.Add(entry.Name);
            if (!file.TryGetEntry(entry.Name, out var found))
            {
                Problem(problems, $"'{entry.Name}' is missing (model has {Describe(entry)})");
                continue;
            }
            if (entry.Value is not null)
            {
                if (!found.IsFloat || found.Shape != entry.Value.Shape)
                {
                    Problem(problems, $"'{entry.Name}' is {found.DType}{found.Shape}; expected F32{entry.Value.Shape} (F64, F16 or BF16 also accepted)");
                }
            }
            else if (!found.IsInteger || found.Shape.Rank != 0)
            {
                Problem(problems, $"'{entry.Name}' is {found.DType}{found.Shape}; expected I64[] (an integer scalar)");
            }
        }
        foreach (var found in file.Entries)
        {
            if (!wanted.Contains(found.Name)) Problem(problems, $"'{found.Name}' ({found.DType}{found.Shape}) is not in the model");
        }
        if (problems.Length > 0)
        {
            throw new InvalidDataException(
                $"Checkpoint '{path}' does not match the {model.GetType().Name} ({state.Count} entries; the model is unchanged):{problems}");
        }
        Span<long> counter = stackalloc long[1];
        if (!allowNonFinite) FindNonFinite(file, state, problems);
        if (problems.Length > 0)
        {
            throw new InvalidDataException(
                $"Checkpoint '{path}' holds values that are not finite (the model is unchanged; pass allowNonFinite to load them):{problems}");
        }
        for (int i = 0; i < state.Count; i++)
        {
            var entry = state[i];
            var found = file[entry.Name];
            if (entry.Value is not null)
            {
                found.CopyTo(entry.Value.AsSpan());
            }
            else
            {
                found.CopyTo(counter);
                entry.Counter!.Value = counter[0];
            }
        }
    }

    /// <summary>
    /// Lists the float entries holding NaN or an infinity, converting each through one buffer the size of the largest,
    /// before anything is written: a refused file leaves the model as it was.
    /// </summary>
    private static void FindNonFinite(SafeTensorsFile file, IReadOnlyList<StateEntry> state, StringBuilder problems)
    {
        int largest = 0;
        foreach (var entry in state) largest = Math.Max(largest, entry.Value?.Length ?? 0);
        var buffer = ArrayPool<float>.Shared.Rent(largest);
        try
        {
            foreach (var entry in state)
            {
                if (entry.Value is not { } value) continue;
                var values = buffer.AsSpan(0, value.Length);
                file[entry.Name].CopyTo(values);
                int bad = FiniteValues.IndexOfNonFinite(values);
                if (bad >= 0) Problem(problems, $"'{entry.Name}' holds {values[bad]} at element {bad}");
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    private static string Describe(StateEntry entry) => entry.Value is not null ? $"F32{entry.Value.Shape}" : "I64[]";

    private static void Problem(StringBuilder problems, string text) => problems.Append("\n  ").Append(text);
}
