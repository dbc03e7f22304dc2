using System;
using System.Numerics.Tensors;
using Spiking.Tensors.Kernels;

namespace Spiking.Tensors;

public sealed partial class Tensor
{
    /// <summary>Elementwise sum with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public Tensor Add(Tensor other) => Binary<AddOp>(other);

    /// <summary>Elementwise difference with NumPy broadcasting.</summary>
    public Tensor Subtract(Tensor other) => Binary<SubtractOp>(other);

    /// <summary>Elementwise product with NumPy broadcasting.</summary>
    public Tensor Multiply(Tensor other) => Binary<MultiplyOp>(other);

    /// <summary>Elementwise quotient with NumPy broadcasting.</summary>
    public Tensor Divide(Tensor other) => Binary<DivideOp>(other);

    /// <summary>Elementwise maximum with NumPy broadcasting (NaN propagates).</summary>
    public Tensor Maximum(Tensor other) => Binary<MaxOp>(other);

    /// <summary>Elementwise minimum with NumPy broadcasting (NaN propagates).</summary>
    public Tensor Minimum(Tensor other) => Binary<MinOp>(other);

    /// <summary>Adds a scalar to every element.</summary>
    public Tensor Add(float value) => Map(this, value, static (x, v, d) => TensorPrimitives.Add(x, v, d));

    /// <summary>Multiplies every element by a scalar.</summary>
    public Tensor Multiply(float value) => Map(this, value, static (x, v, d) => TensorPrimitives.Multiply(x, v, d));

    /// <summary>Adds <paramref name="other"/>, broadcast to this shape, in place.</summary>
    /// <exception cref="ArgumentException">The other shape does not broadcast to this one.</exception>
    public void AddInPlace(Tensor other)
    {
        if (!IsOnHost && SameDeviceAndShape(other))
        {
            Backend.Add(this, other, this);
            return;
        }
        BinaryInPlace<AddOp>(other);
    }

    /// <summary>Subtracts <paramref name="other"/>, broadcast to this shape, in place.</summary>
    public void SubtractInPlace(Tensor other) => BinaryInPlace<SubtractOp>(other);

    /// <summary>Multiplies by <paramref name="other"/>, broadcast to this shape, in place.</summary>
    public void MultiplyInPlace(Tensor other) => BinaryInPlace<MultiplyOp>(other);

    /// <summary>Multiplies every element by a scalar, in place.</summary>
    public void MultiplyInPlace(float value)
    {
        if (!IsOnHost)
        {
            Backend.Scale(this, value, this);
            return;
        }
        var s = AsSpan();
        TensorPrimitives.Multiply(s, value, s);
    }

    /// <summary>Adds a scalar to every element, in place.</summary>
    public void AddInPlace(float value)
    {
        var s = AsSpan();
        TensorPrimitives.Add(s, value, s);
    }

    /// <summary><c>this += alpha * other</c> for tensors of the same shape (an axpy).</summary>
    public void AddScaledInPlace(Tensor other, float alpha)
    {
        ThrowIfDisposed();
        TensorChecks.SameShape(this, other, nameof(other));
        TensorChecks.SameDevice(this, other, nameof(other));
        if (!IsOnHost)
        {
            Backend.AddScaled(this, other, alpha);
            return;
        }
        var s = AsSpan();
        TensorPrimitives.MultiplyAdd(other.AsReadOnlySpan(), alpha, s, s);
    }

    /// <summary>Elementwise negation.</summary>
    public Tensor Negate() => Map(this, 0f, static (x, _, d) => TensorPrimitives.Negate(x, d));

    /// <summary>Elementwise <c>e^x</c>.</summary>
    public Tensor Exp() => Map(this, 0f, static (x, _, d) => TensorPrimitives.Exp(x, d));

    /// <summary>Elementwise natural logarithm.</summary>
    public Tensor Log() => Map(this, 0f, static (x, _, d) => TensorPrimitives.Log(x, d));

    /// <summary>Elementwise logistic sigmoid.</summary>
    public Tensor Sigmoid() => Map(this, 0f, static (x, _, d) => TensorPrimitives.Sigmoid(x, d));

    /// <summary>Elementwise hyperbolic tangent.</summary>
    /// <remarks>
    /// Not <see cref="TensorPrimitives.Tanh{T}(ReadOnlySpan{T}, Span{T})"/>: it goes through <c>e^2x - 1</c> and has
    /// an absolute error of about 6e-8 near zero (tanh(0) comes out as -5.96e-8, tanh(0.001) 2.7e-5 too small).
    /// </remarks>
    public Tensor Tanh() => Map(this, 0f, static (x, _, d) =>
    {
        for (int i = 0; i < x.Length; i++) d[i] = MathF.Tanh(x[i]);
    });

    /// <summary>Elementwise <c>max(x, 0)</c>.</summary>
    public Tensor Relu() => Map(this, 0f, static (x, _, d) => TensorPrimitives.Max(x, 0f, d));

    /// <summary>Elementwise absolute value.</summary>
    public Tensor Abs() => Map(this, 0f, static (x, _, d) => TensorPrimitives.Abs(x, d));

    /// <summary>Elementwise square root.</summary>
    public Tensor Sqrt() => Map(this, 0f, static (x, _, d) => TensorPrimitives.Sqrt(x, d));

    /// <summary>Elementwise square.</summary>
    public Tensor Square() => Map(this, 0f, static (x, _, d) => TensorPrimitives.Multiply(x, x, d));

    /// <summary>The sum of all elements.</summary>
    public float Sum() => Reduce.Sum(AsReadOnlySpan());

    /// <summary>The sum of the squares of all elements.</summary>
    public float SumOfSquares() => Reduce.SumOfSquares(AsReadOnlySpan());

    /// <summary>The mean of all elements.</summary>
    /// <exception cref="InvalidOperationException">The tensor is empty.</exception>
    public float Mean()
    {
        if (Length == 0) throw new InvalidOperationException($"The mean of an empty tensor (shape {Shape}) is undefined.");
        return Sum() / Length;
    }

    /// <summary>The largest element.</summary>
    /// <exception cref="InvalidOperationException">The tensor is empty.</exception>
    public float Max()
    {
        if (Length == 0) throw new InvalidOperationException($"The maximum of an empty tensor (shape {Shape}) is undefined.");
        return TensorPrimitives.Max(AsReadOnlySpan());
    }

    /// <summary>The smallest element.</summary>
    /// <exception cref="InvalidOperationException">The tensor is empty.</exception>
    public float Min()
    {
        if (Length == 0) throw new InvalidOperationException($"The minimum of an empty tensor (shape {Shape}) is undefined.");
        return TensorPrimitives.Min(AsReadOnlySpan());
    }

    /// <summary>Sums along <paramref name="axis"/> (negative counts from the end); <paramref name="keepDim"/> keeps it as size 1.</summary>
    public Tensor Sum(int axis, bool keepDim = false) => ReduceAxis(axis, keepDim, Reduce.Kind.Sum);

    /// <summary>Averages along <paramref name="axis"/>.</summary>
    /// <exception cref="InvalidOperationException">The axis has length 0.</exception>
    public Tensor Mean(int axis, bool keepDim = false)
    {
        int n = Shape[axis];
        if (n == 0) throw new InvalidOperationException($"The mean along axis {axis} of shape {Shape} is over zero elements.");
        var t = ReduceAxis(axis, keepDim, Reduce.Kind.Sum);
        t.MultiplyInPlace(1f / n);
        return t;
    }

    /// <summary>The maximum along <paramref name="axis"/>.</summary>
    /// <exception cref="InvalidOperationException">The axis has length 0.</exception>
    public Tensor Max(int axis, bool keepDim = false) => ReduceAxis(axis, keepDim, Reduce.Kind.Max);

    /// <summary>The minimum along <paramref name="axis"/>.</summary>
    /// <exception cref="InvalidOperationException">The axis has length 0.</exception>
    public Tensor Min(int axis, bool keepDim = false) => ReduceAxis(axis, keepDim, Reduce.Kind.Min);

    /// <summary>For each row of the last axis, the index of its largest element (the first on ties).</summary>
    /// <exception cref="InvalidOperationException">The tensor is a scalar or its last axis is empty.</exception>
    public int[] ArgMaxLastAxis()
    {
        if (Rank == 0 || Shape.LastDimension == 0) throw new InvalidOperationException($"ArgMax needs a non-empty last axis; shape is {Shape}.");
        var result = new int[Shape.RowCount];
        Reduce.ArgMaxRows(AsReadOnlySpan(), Shape.LastDimension, result);
        return result;
    }

    /// <summary>
    /// Sums this tensor down to <paramref name="shape"/>, which must broadcast to this tensor's shape: the
    /// reduction that undoes a broadcast (the gradient of a broadcast add).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="shape"/> does not broadcast to this shape.</exception>
    public Tensor SumToShape(Shape shape)
    {
        ThrowIfDisposed();
        if (shape.Rank > Rank || Elementwise.BroadcastShape(shape, Shape, "sum to shape") != Shape)
        {
            throw new ArgumentException($"Shape {shape} does not broadcast to {Shape}, so {Shape} cannot be summed down to it.", nameof(shape));
        }
        var result = Empty(shape);
        Elementwise.SumToShape(AsReadOnlySpan(), Shape, result.AsSpan(), shape);
        return result;
    }

    /// <summary>A copy with the last two axes swapped (a rank-2 transpose, batched over leading axes).</summary>
    /// <exception cref="InvalidOperationException">The tensor has rank below 2.</exception>
    public Tensor TransposeLastTwo()
    {
        if (Rank < 2) throw new InvalidOperationException($"Transposing the last two axes needs rank 2 or more; shape is {Shape}.");
        int r = Shape[-2], c = Shape[-1];
        var dims = Shape.Dimensions.ToArray();
        (dims[^2], dims[^1]) = (c, r);
        var result = Empty(new Shape(dims));
        var src = AsReadOnlySpan();
        var dst = result.AsSpan();
        for (int b = 0, n = r * c; b < Length / Math.Max(1, n); b++) Transpose.Matrix(src.Slice(b * n, n), r, c, dst.Slice(b * n, n));
        return result;
    }

    /// <summary>Elementwise sum.</summary>
    public static Tensor operator +(Tensor left, Tensor right) => left.Add(right);

    /// <summary>Elementwise difference.</summary>
    public static Tensor operator -(Tensor left, Tensor right) => left.Subtract(right);

    /// <summary>Elementwise product.</summary>
    public static Tensor operator *(Tensor left, Tensor right) => left.Multiply(right);

    /// <summary>Elementwise quotient.</summary>
    public static Tensor operator /(Tensor left, Tensor right) => left.Divide(right);

    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(Tensor left, float right) => left.Add(right);

    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(Tensor left, float right) => left.Multiply(right);

    /// <summary>Elementwise negation.</summary>
    public static Tensor operator -(Tensor value) => value.Negate();

    private Tensor Binary<TOp>(Tensor other) where TOp : IBinaryOp
    {
        ThrowIfDisposed();
        TensorChecks.Live(other, nameof(other));
        var shape = Elementwise.BroadcastShape(Shape, other.Shape, TOp.Name);
        var result = Empty(shape);
        Elementwise.Binary<TOp>(AsReadOnlySpan(), Shape, other.AsReadOnlySpan(), other.Shape, result.AsSpan(), shape);
        return result;
    }

    private void BinaryInPlace<TOp>(Tensor other) where TOp : IBinaryOp
    {
        ThrowIfDisposed();
        TensorChecks.Live(other, nameof(other));
        if (Elementwise.BroadcastShape(Shape, other.Shape, TOp.Name) != Shape)
        {
            throw new ArgumentException($"In-place {TOp.Name} needs '{nameof(other)}' to broadcast to {Shape}; it has shape {other.Shape}.", nameof(other));
        }
        var s = AsSpan();
        Elementwise.Binary<TOp>(s, Shape, other.AsReadOnlySpan(), other.Shape, s, Shape);
    }

    private static Tensor Map(Tensor x, float value, SpanMap map)
    {
        var result = Empty(x.Shape);
        map(x.AsReadOnlySpan(), value, result.AsSpan());
        return result;
    }

    private delegate void SpanMap(ReadOnlySpan<float> source, float value, Span<float> destination);

    private Tensor ReduceAxis(int axis, bool keepDim, Reduce.Kind kind)
    {
        ThrowIfDisposed();
        int a = Shape.NormalizeAxis(axis);
        int n = Shape[a];
        if (n == 0 && kind != Reduce.Kind.Sum)
        {
            throw new InvalidOperationException($"The {kind.ToString().ToLowerInvariant()} along axis {axis} of shape {Shape} is over zero elements.");
        }
        int outer = Shape.ProductOfLeading(a), inner = Shape.ProductOfTrailing(a + 1);
        Shape shape;
        if (keepDim)
        {
            shape = Shape.WithDimension(a, 1);
        }
        else
        {
            var dims = new int[Rank - 1];
            for (int i = 0, j = 0; i < Rank; i++)
            {
                if (i != a) dims[j++] = Shape[i];
            }
            shape = new Shape(dims);
        }
        var result = n == 0 ? Zeros(shape) : Empty(shape);
        if (n > 0) Reduce.Axis(AsReadOnlySpan(), outer, n, inner, result.AsSpan(), kind);
        return result;
    }

    /// <summary>True when <paramref name="other"/> is live, of this shape and on this device (a device kernel's fast case).</summary>
    private bool SameDeviceAndShape(Tensor other)
    {
        TensorChecks.Live(other, nameof(other));
        return other.Shape == Shape && other.Device == Device;
    }
}
