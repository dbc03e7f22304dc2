using System;
using System.Collections.Generic;
using System.Text;

namespace Spiking.Tensors;

/// <summary>
/// The dimensions of a tensor, outermost first. Dimension 0 is time <c>T</c> for multi-step tensors.
/// A shape is immutable; a rank-0 shape describes a scalar with one element.
/// </summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly int[]? _dims;
    private readonly int _elementCount;

    /// <summary>Creates a shape from its dimensions; every dimension must be non-negative.</summary>
    /// <exception cref="ArgumentException">A dimension is negative, or the element count overflows.</exception>
    public Shape(params ReadOnlySpan<int> dims)
    {
        _dims = dims.ToArray();
        long count = 1;
        for (int i = 0; i < _dims.Length; i++)
        {
            if (_dims[i] < 0)
            {
                throw new ArgumentException(
                    $"Shape {Format(dims)} has a negative dimension {_dims[i]} at axis {i}; every dimension must be >= 0.",
                    nameof(dims));
            }
            count *= _dims[i];
            if (count > int.MaxValue)
            {
                throw new ArgumentException(
                    $"Shape {Format(dims)} has more than {int.MaxValue} elements.", nameof(dims));
            }
        }
        _elementCount = (int)count;
    }

    /// <summary>The number of dimensions.</summary>
    public int Rank => _dims?.Length ?? 0;

    /// <summary>The product of all dimensions (1 for a scalar).</summary>
    /// <remarks>
    /// <c>default(Shape)</c> and <c>new Shape()</c> never run the constructor, so they have no dimension array; they
    /// are the scalar shape too.
    /// </remarks>
    public int ElementCount => _dims is null ? 1 : _elementCount;

    /// <summary>The dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Dimensions => _dims;

    /// <summary>The size of dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis] => _dims![NormalizeAxis(axis)];

    /// <summary>The size of the last dimension, or 1 for a scalar.</summary>
    public int LastDimension => Rank == 0 ? 1 : _dims![^1];

    /// <summary>The product of every dimension except the last: the number of rows of the row-major layout.</summary>
    public int RowCount => Rank == 0 ? 1 : (LastDimension == 0 ? ProductOfLeading(Rank - 1) : ElementCount / LastDimension);

    /// <summary>Maps a possibly negative axis to <c>[0, Rank)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is outside <c>[-Rank, Rank)</c>.</exception>
    public int NormalizeAxis(int axis)
    {
        int n = axis < 0 ? axis + Rank : axis;
        if ((uint)n >= (uint)Rank)
        {
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"Axis {axis} is out of range for shape {this} of rank {Rank}.");
        }
        return n;
    }

    /// <summary>The product of dimensions <c>[0, end)</c>.</summary>
    public int ProductOfLeading(int end)
    {
        int p = 1;
        for (int i = 0; i < end; i++) p *= _dims![i];
        return p;
    }

    /// <summary>The product of dimensions <c>[start, Rank)</c>.</summary>
    public int ProductOfTrailing(int start)
    {
        int p = 1;
        for (int i = start; i < Rank; i++) p *= _dims![i];
        return p;
    }

    /// <summary>The shape <c>[size, ...inner]</c>: <paramref name="inner"/> with a new leading axis.</summary>
    public static Shape Prepend(int size, Shape inner)
    {
        var dims = new int[inner.Rank + 1];
        dims[0] = size;
        inner.Dimensions.CopyTo(dims.AsSpan(1));
        return new Shape(dims);
    }

    /// <summary>The shape without its first dimension: one time step of a multi-step tensor.</summary>
    public Shape DropLeading()
    {
        if (Rank == 0) throw new InvalidOperationException("A scalar shape has no leading dimension to drop.");
        return new Shape(Dimensions[1..]);
    }

    /// <summary>The same shape with dimension <paramref name="axis"/> replaced by <paramref name="size"/>.</summary>
    public Shape WithDimension(int axis, int size)
    {
        var dims = Dimensions.ToArray();
        dims[NormalizeAxis(axis)] = size;
        return new Shape(dims);
    }

    /// <summary>
    /// Resolves a requested shape for a reshape of <paramref name="elementCount"/> elements; one dimension may be -1
    /// and is inferred.
    /// </summary>
    /// <exception cref="ArgumentException">More than one -1, another negative value, or a count that does not match.</exception>
    public static Shape Resolve(ReadOnlySpan<int> requested, int elementCount, string paramName) =>
        Resolve(requested, elementCount, paramName, source: null);

    /// <summary>
    /// <see cref="Resolve(ReadOnlySpan{int}, int, string)"/> for a reshape of a tensor of shape <paramref name="source"/>,
    /// whose errors name that shape as well as the requested one.
    /// </summary>
    internal static Shape Resolve(ReadOnlySpan<int> requested, Shape source, string paramName) =>
        Resolve(requested, source.ElementCount, paramName, (Shape?)source);

    private static Shape Resolve(ReadOnlySpan<int> requested, int elementCount, string paramName, Shape? source)
    {
        string tensor = source is { } from ? $"the tensor of shape {from}" : "the tensor";
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < requested.Length; i++)
        {
            if (requested[i] == -1)
            {
                if (inferred >= 0)
                {
                    throw new ArgumentException($"Shape {Format(requested)} has more than one -1; at most one dimension can be inferred.", paramName);
                }
                inferred = i;
            }
            else if (requested[i] < 0)
            {
                throw new ArgumentException($"Shape {Format(requested)} has a negative dimension {requested[i]} at axis {i}.", paramName);
            }
            else
            {
                known *= requested[i];
            }
        }
        var dims = requested.ToArray();
        if (inferred >= 0)
        {
            if (known == 0 || elementCount % known != 0)
            {
                throw new ArgumentException($"Cannot infer the -1 of shape {Format(requested)} for the {elementCount} elements of {tensor}.", paramName);
            }
            dims[inferred] = (int)(elementCount / known);
        }
        else if (known != elementCount)
        {
            throw new ArgumentException($"Shape {Format(requested)} holds {known} elements but {tensor} has {elementCount}; a reshape keeps the element count.", paramName);
        }
        return new Shape(dims);
    }

    /// <inheritdoc/>
    public bool Equals(Shape other) => Dimensions.SequenceEqual(other.Dimensions);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Dimensions) h.Add(d);
        return h.ToHashCode();
    }

    /// <summary>Shapes are equal when they have the same rank and dimensions.</summary>
    public static bool operator ==(Shape left, Shape right) => left.Equals(right);

    /// <summary>Shapes differ when their rank or any dimension differs.</summary>
    public static bool operator !=(Shape left, Shape right) => !left.Equals(right);

    /// <summary>Formats as <c>[2, 3, 4]</c>.</summary>
    public override string ToString() => Format(Dimensions);

    /// <summary>Formats dimensions as <c>[2, 3, 4]</c>.</summary>
    public static string Format(ReadOnlySpan<int> dims)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < dims.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(dims[i]);
        }
        return sb.Append(']').ToString();
    }

    /// <summary>Creates a shape from a list of dimensions.</summary>
    public static Shape FromList(IReadOnlyList<int> dims)
    {
        var a = new int[dims.Count];
        for (int i = 0; i < a.Length; i++) a[i] = dims[i];
        return new Shape(a);
    }
}
