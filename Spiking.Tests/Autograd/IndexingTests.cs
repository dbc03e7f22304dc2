using System;
using System.Collections.Generic;
using FsCheck.Xunit;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

/// <summary>
/// Select, Narrow, Unbind, Stack and Concat of dense and spike variables, Where and MaskedFill: values against naive
/// index walks, gradients against finite differences (dense) and against the slice of the output gradient a spike
/// input must get (through a straight-through spike source), the zero padding of every spike result, the cost of a
/// time step (a view forward, a backward that writes its own step only) and the errors.
/// </summary>
public sealed class IndexingTests
{
    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 60)]
    public void Narrow_and_Select_match_the_reference_for_dense_and_spikes(SliceCase c)
    {
        int a = c.NormalAxis;
        var values = c.Values();
        var bits = c.Bits();
        var (dims, expected) = Reference.Narrow(values, c.Dims, a, c.Start, c.Length);
        var (_, expectedBits) = Reference.Narrow(bits, c.Dims, a, c.Start, c.Length);
        using (var x = Variable.Constant(c.Dense()))
        using (var y = Functional.Narrow(x, c.Axis, c.Start, c.Length))
        {
            Assert.Equal(new Shape(dims), y.Shape);
            Reference.AssertBitwise(expected, y.Dense.AsReadOnlySpan(), $"narrow {c}");
        }
        using (var s = Variable.Constant(c.Spikes()))
        using (var y = Functional.Narrow(s, c.Axis, c.Start, c.Length))
        {
            Assert.True(y.IsSpikes);
            Assert.Equal(new Shape(dims), y.Shape);
            SpikeAssert.Equal(expectedBits, y.Spikes!, $"narrow of spikes {c}");
        }
        int i = c.Index;
        var dropped = new Shape(Reference.Reduced(c.Dims, a, keepDim: false));
        var (_, selected) = Reference.Narrow(values, c.Dims, a, i, 1);
        var (_, selectedBits) = Reference.Narrow(bits, c.Dims, a, i, 1);
        foreach (int index in new[] { i, i - c.Dims[a] })
        {
            using (var x = Variable.Constant(c.Dense()))
            using (var y = Functional.Select(x, c.Axis, index))
            {
                Assert.Equal(dropped, y.Shape);
                Reference.AssertBitwise(selected, y.Dense.AsReadOnlySpan(), $"select {index} of {c}");
            }
            if (c.Dims.Length == 1) continue;
            using (var s = Variable.Constant(c.Spikes()))
            using (var y = Functional.Select(s, c.Axis, index))
            {
                Assert.True(y.IsSpikes);
                Assert.Equal(dropped, y.Shape);
                SpikeAssert.Equal(selectedBits, y.Spikes!, $"select {index} of spikes {c}");
            }
        }
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 30)]
    public void The_gradient_of_a_slice_is_the_output_gradient_in_place_and_zero_elsewhere(SliceCase c)
    {
        int a = c.NormalAxis, i = c.Index;
        var narrowed = Reference.Narrow(c.Values(), c.Dims, a, c.Start, c.Length).Dims;
        var g = new TensorCase(narrowed, c.Seed + 3);
        var expected = Reference.Scatter(g.Values(), c.Dims, a, c.Start, c.Length);
        AssertSliceGradient(c, v => Functional.Narrow(v, c.Axis, c.Start, c.Length), g, expected, spikes: true, $"narrow {c}");
        var step = new TensorCase(Reference.Reduced(c.Dims, a, keepDim: false), c.Seed + 4);
        var expectedStep = Reference.Scatter(step.Values(), c.Dims, a, i, 1);
        AssertSliceGradient(c, v => Functional.Select(v, c.Axis, i), step, expectedStep, spikes: c.Dims.Length > 1, $"select {i} of {c}");
    }

    /// <summary>Backward through <paramref name="slice"/> from a dense leaf and from spikes made of a leaf by a straight-through source.</summary>
    private static void AssertSliceGradient(SliceCase c, Func<Variable, Variable> slice, TensorCase g, float[] expected, bool spikes, string what)
    {
        using (var x = Variable.Parameter(c.Dense()))
        using (var y = slice(x))
        using (var seed = g.Create())
        {
            y.Backward(seed);
            Reference.AssertBitwise(expected, x.Grad!.AsReadOnlySpan(), $"{what}: gradient of the dense input");
        }
        if (!spikes) return;
        using var u = Variable.Parameter(Tensor.FromSpan(ShapeOpTests.Shifted(c.Bits()), c.Shape));
        using var s = SpikeSourceNode.Apply(u);
        using (var y = slice(s))
        using (var seed = g.Create())
        {
            Assert.True(y.IsSpikes);
            y.Backward(seed);
        }
        Reference.AssertBitwise(expected, u.Grad!.AsReadOnlySpan(), $"{what}: gradient of the spike input");
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 25)]
    public void Narrow_Select_and_Unbind_pass_gradient_checks(SliceCase c)
    {
        int a = c.NormalAxis, size = c.Dims[a], i = c.Index, j = size - 1 - i;
        GradAssert.Passes(v => Functional.Narrow(v[0], c.Axis, c.Start, c.Length), $"narrow {c}", c.Dense());
        // Two slices of one leaf add into one running gradient; through exp, the running gradient of an intermediate.
        GradAssert.Passes(v => Functional.Select(v[0], c.Axis, i) * 2f + Functional.Select(v[0], c.Axis, j - size), $"two selects {i}, {j} of {c}", c.Dense());
        GradAssert.Passes(v => Functional.Select(Functional.Exp(v[0]), c.Axis, -1 - i) + Functional.Sum(Functional.Narrow(Functional.Exp(v[0]), a, c.Start, c.Length)),
            $"slices of an intermediate {c}", c.Dense());
        // Unbound pieces stacked back in reverse order: a piece's gradient in the wrong slice would show.
        GradAssert.Passes(v => Functional.Stack(Reversed(Functional.Unbind(v[0], c.Axis)), a), $"unbind {c}", c.Dense());
        // Only the last and first pieces used: the others' slices get zero.
        GradAssert.Passes(v =>
        {
            var pieces = Functional.Unbind(v[0], c.Axis);
            return Functional.Stack([pieces[^1], pieces[0]], 0);
        }, $"unbind, two pieces used, {c}", c.Dense());
    }

    private static Variable[] Reversed(IReadOnlyList<Variable> pieces)
    {
        var r = new Variable[pieces.Count];
        for (int k = 0; k < r.Length; k++) r[k] = pieces[r.Length - 1 - k];
        return r;
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 30)]
    public void Unbind_gives_every_slice_from_one_node(SliceCase c)
    {
        int a = c.NormalAxis, size = c.Dims[a];
        var values = c.Values();
        var bits = c.Bits();
        var dropped = new Shape(Reference.Reduced(c.Dims, a, keepDim: false));
        using var x = Variable.Parameter(c.Dense());
        using var u = Variable.Parameter(Tensor.FromSpan(ShapeOpTests.Shifted(bits), c.Shape));
        using var s = SpikeSourceNode.Apply(u);
        var pieces = Functional.Unbind(x, c.Axis);
        var spikePieces = c.Dims.Length > 1 ? Functional.Unbind(s, c.Axis) : [];
        Assert.Equal(size, pieces.Count);
        Variable? loss = null, spikeLoss = null;
        for (int k = 0; k < size; k++)
        {
            Assert.Equal(dropped, pieces[k].Shape);
            Assert.Same(pieces[0].Creator, pieces[k].Creator);
            Assert.Equal(k, pieces[k].OutputIndex);
            Reference.AssertBitwise(Reference.Narrow(values, c.Dims, a, k, 1).Values, pieces[k].Dense.AsReadOnlySpan(), $"piece {k} of {c}");
            if (k % 2 == 0) loss = Plus(loss, Functional.Sum(pieces[k] * (k + 1f)));
            if (spikePieces.Count == 0) continue;
            var p = spikePieces[k];
            Assert.True(p.IsSpikes);
            Assert.Same(spikePieces[0].Creator, p.Creator);
            SpikeAssert.Equal(Reference.Narrow(bits, c.Dims, a, k, 1).Values, p.Spikes!, $"spike piece {k} of {c}");
            if (k % 2 == 0) spikeLoss = Plus(spikeLoss, Functional.Sum(Functional.SpikesToDense(p) * (k + 1f)));
        }
        Assert.Equal(spikePieces.Count == 0 ? 0 : size, spikePieces.Count);
        // Only the even pieces reach the loss: their slices get k + 1, the odd ones stay zero.
        var expected = new float[c.Shape.ElementCount];
        for (int e = 0; e < expected.Length; e++)
        {
            int k = Reference.Unravel(e, c.Dims)[a];
            expected[e] = k % 2 == 0 ? k + 1 : 0;
        }
        loss!.Backward();
        Reference.AssertBitwise(expected, x.Grad!.AsReadOnlySpan(), $"unbind {c}: gradient");
        if (spikeLoss is null) return;
        spikeLoss.Backward();
        Reference.AssertBitwise(expected, u.Grad!.AsReadOnlySpan(), $"unbind of spikes {c}: gradient");
    }

    private static Variable Plus(Variable? sum, Variable term) => sum is null ? term : sum + term;

    [Fact]
    public void A_time_step_is_a_view_and_its_backward_writes_that_step_only()
    {
        const int T = 6, B = 2, N = 70;
        var c = new TensorCase([T, B, N], 5);
        using var x = Variable.Parameter(c.Create());
        for (int t = 0; t < T; t++)
        {
            using var step = x[t];
            Assert.True(x.Dense.AsReadOnlySpan().Overlaps(step.Dense.AsReadOnlySpan(), out int offset));
            Assert.Equal(t * B * N, offset);
        }
        var train = new SpikeTrainCase(T, B, N, 0.3, 4);
        using var u = Variable.Parameter(Tensor.FromSpan(ShapeOpTests.Shifted(train.Dense()), new Shape(T, B, N)));
        using var s = SpikeSourceNode.Apply(u);
        for (int t = 0; t < T; t++)
        {
            using var step = s[t - T];
            Assert.True(step.IsSpikes);
            Assert.True(s.Spikes!.Words.Overlaps(step.Spikes!.Words, out int offset));
            Assert.Equal(t * B * s.Spikes.WordsPerRow, offset);
        }

        // The running gradient of x holds -0 everywhere. Adding a full-size gradient (zeros off the step) would turn
        // every -0 into +0; adding into the step only leaves the other T - 1 steps bit for bit as they were.
        x.Grad = Tensor.Full(x.Shape, -0f);
        var g = new TensorCase([B, N], 9);
        using (var step = Functional.Select(x, 0, 3))
        using (var seed = g.Create())
        {
            step.Backward(seed);
        }
        AssertWrittenOnly(x.Grad!, e => e / (B * N) == 3, g.Values(), "select of step 3");

        // All T steps, each through its own select: every step's gradient arrives in its own place.
        x.ZeroGrad();
        Variable? loss = null;
        for (int t = 0; t < T; t++) loss = Plus(loss, Functional.Sum(x[t] * (t + 1f)));
        loss!.Backward();
        var grad = x.Grad!.AsReadOnlySpan();
        for (int e = 0; e < grad.Length; e++) Assert.Equal(e / (B * N) + 1f, grad[e]);
    }

    [Fact]
    public void Narrow_off_the_leading_axis_and_Unbind_write_only_their_slices()
    {
        int[] dims = [3, 5, 4];
        using var x = Variable.Parameter(new TensorCase(dims, 1).Create());
        x.Grad = Tensor.Full(x.Shape, -0f);
        var g = new TensorCase([3, 2, 4], 2);
        using (var y = Functional.Narrow(x, 1, 1, 2))
        using (var seed = g.Create())
        {
            y.Backward(seed);
        }
        AssertWrittenOnly(x.Grad, e => Reference.Unravel(e, dims)[1] is 1 or 2, g.Values(), "narrow [1, 3) of axis 1");

        // Unbind along the last axis, pieces 1 and 3 used: the slices of pieces 0 and 2 are never written.
        x.Grad = Tensor.Full(x.Shape, -0f);
        var pieces = Functional.Unbind(x, -1);
        Assert.Equal(4, pieces.Count);
        using (var loss = Functional.Sum(pieces[1]) + Functional.Sum(pieces[3] * 2f))
        {
            loss.Backward();
        }
        var grad = x.Grad.AsReadOnlySpan();
        for (int e = 0; e < grad.Length; e++)
        {
            int k = Reference.Unravel(e, dims)[2];
            if (k == 1 || k == 3) Assert.Equal(k == 1 ? 1f : 2f, grad[e]);
            else Assert.Equal(int.MinValue, BitConverter.SingleToInt32Bits(grad[e]));
        }
    }

    /// <summary>
    /// Asserts the elements <paramref name="inSlice"/> selects hold <paramref name="slice"/>, in order, and every other
    /// element still holds the bits of -0: nothing wrote there.
    /// </summary>
    private static void AssertWrittenOnly(Tensor gradient, Func<int, bool> inSlice, float[] slice, string what)
    {
        var grad = gradient.AsReadOnlySpan();
        int next = 0;
        for (int e = 0; e < grad.Length; e++)
        {
            if (inSlice(e))
            {
                Assert.True(slice[next] == grad[e], $"{what}: element {e} is {grad[e]}, expected {slice[next]}");
                next++;
            }
            else
            {
                Assert.True(BitConverter.SingleToInt32Bits(grad[e]) == int.MinValue, $"{what}: element {e} outside the slice was written ({grad[e]}).");
            }
        }
        Assert.Equal(slice.Length, next);
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 50)]
    public void Concat_and_Stack_of_spikes_stay_bits_and_give_each_input_its_slice_of_the_gradient(JoinCase c)
    {
        int rank = c.Dims.Length, a = c.Axis < 0 ? c.Axis + rank : c.Axis;
        var pieceDims = new int[c.Count][];
        var bits = new float[c.Count][];
        for (int i = 0; i < c.Count; i++)
        {
            pieceDims[i] = c.PieceDims(i);
            bits[i] = c.Bits(pieceDims[i], i);
        }
        var (dims, expected) = Reference.Concat(bits, pieceDims, a);
        var g = new TensorCase(dims, c.Seed + 5);
        var us = Sources(bits, pieceDims, out var spikes);
        using (var y = Functional.Concat(spikes, c.Axis))
        using (var seed = g.Create())
        {
            Assert.True(y.IsSpikes);
            Assert.Equal(new Shape(dims), y.Shape);
            SpikeAssert.Equal(expected, y.Spikes!, $"concat {c}");
            y.Backward(seed);
        }
        for (int i = 0, start = 0; i < c.Count; start += c.Sizes[i], i++)
        {
            Reference.AssertBitwise(Reference.Narrow(g.Values(), dims, a, start, c.Sizes[i]).Values, us[i].Grad!.AsReadOnlySpan(), $"concat {c}: gradient of input {i}");
        }
        Dispose(us, spikes);

        int sa = c.StackAxis < 0 ? c.StackAxis + rank + 1 : c.StackAxis;
        var stackBits = new float[c.Count][];
        var same = new int[c.Count][];
        for (int i = 0; i < c.Count; i++)
        {
            stackBits[i] = c.Bits(c.Dims, i);
            same[i] = c.Dims;
        }
        var (stackDims, stacked) = Reference.Stack(stackBits, c.Dims, sa);
        var sg = new TensorCase(stackDims, c.Seed + 6);
        us = Sources(stackBits, same, out spikes);
        using (var y = Functional.Stack(spikes, c.StackAxis))
        using (var seed = sg.Create())
        {
            Assert.True(y.IsSpikes);
            Assert.Equal(new Shape(stackDims), y.Shape);
            SpikeAssert.Equal(stacked, y.Spikes!, $"stack {c}");
            y.Backward(seed);
        }
        for (int i = 0; i < c.Count; i++)
        {
            Reference.AssertBitwise(Reference.Narrow(sg.Values(), stackDims, sa, i, 1).Values, us[i].Grad!.AsReadOnlySpan(), $"stack {c}: gradient of input {i}");
        }
        Dispose(us, spikes);
    }

    /// <summary>Leaves holding the bits shifted to ±0.5, and spikes made of each by a straight-through source.</summary>
    private static Variable[] Sources(float[][] bits, int[][] dims, out Variable[] spikes)
    {
        var us = new Variable[bits.Length];
        spikes = new Variable[bits.Length];
        for (int i = 0; i < bits.Length; i++)
        {
            us[i] = Variable.Parameter(Tensor.FromSpan(ShapeOpTests.Shifted(bits[i]), new Shape(dims[i])));
            spikes[i] = SpikeSourceNode.Apply(us[i]);
        }
        return us;
    }

    private static void Dispose(Variable[] us, Variable[] spikes)
    {
        foreach (var v in us) v.Dispose();
        foreach (var v in spikes) v.Dispose();
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 25)]
    public void Concat_and_Stack_with_empty_pieces_and_negative_axes_pass_gradient_checks(JoinCase c)
    {
        var pieces = new Tensor[c.Count];
        for (int i = 0; i < c.Count; i++) pieces[i] = new TensorCase(c.PieceDims(i), c.Seed + i).Create();
        GradAssert.Passes(v => Functional.Concat(v, c.Axis) * 1.5f, $"concat {c}", pieces);
        var same = new Tensor[c.Count];
        for (int i = 0; i < c.Count; i++) same[i] = new TensorCase(c.Dims, c.Seed + i).Create();
        GradAssert.Passes(v => Functional.Stack(v, c.StackAxis), $"stack {c}", same);
    }

    [Fact]
    public void Stacking_more_than_64_spike_inputs_along_a_new_last_axis_fills_several_words_per_row()
    {
        const int count = 70;
        int[] dims = [3, 5];
        var bits = new float[count][];
        var all = new int[count][];
        var inputs = new Variable[count];
        for (int i = 0; i < count; i++)
        {
            bits[i] = SpikeValues.Draw(15, 0.4, i);
            all[i] = dims;
            inputs[i] = Variable.Constant(SpikeValues.Pack(bits[i], dims));
        }
        using var y = Functional.Stack(inputs, -1);
        var (stackDims, expected) = Reference.Stack(bits, dims, 2);
        Assert.Equal(new Shape(stackDims), y.Shape);
        Assert.Equal(2, y.Spikes!.WordsPerRow);
        SpikeAssert.Equal(expected, y.Spikes, "stack of 70 along the last axis");
        using var back = Functional.Concat(Functional.Unbind(y, -1), 1);
        var (_, concatenated) = Reference.Concat(bits, all, 1);
        SpikeAssert.Equal(concatenated, back.Spikes!, "concat of the 70 unbound pieces along axis 1");
        foreach (var v in inputs) v.Dispose();
    }

    [Fact]
    public void Mixing_spike_and_dense_inputs_is_refused_by_Concat_and_Stack()
    {
        using var dense = Variable.Parameter(Tensor.Zeros(2, 3));
        using var spikes = Variable.Constant(SpikeTensor.Zeros(2, 3));
        foreach (var op in new Func<Variable>[] { () => Functional.Concat([spikes, spikes, dense], 0), () => Functional.Stack([spikes, spikes, dense], 1) })
        {
            var e = Assert.Throws<ArgumentException>(op);
            Assert.Equal("xs[2]", e.ParamName);
            Assert.Contains("xs[0] holds spikes of shape [2, 3]", e.Message, StringComparison.Ordinal);
            Assert.Contains("xs[2] is dense of shape [2, 3]", e.Message, StringComparison.Ordinal);
            Assert.Contains("SpikesToDense", e.Message, StringComparison.Ordinal);
        }
        using var wide = Variable.Constant(SpikeTensor.Zeros(2, 4));
        var c = Assert.Throws<ArgumentException>(() => Functional.Concat([spikes, wide], 0));
        Assert.Contains("[2, 4]", c.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", c.Message, StringComparison.Ordinal);
        var s = Assert.Throws<ArgumentException>(() => Functional.Stack([spikes, wide]));
        Assert.Contains("[2, 4]", s.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Slicing_errors_name_the_argument_what_came_and_what_was_expected()
    {
        using var x = Variable.Parameter(Tensor.Zeros(2, 3, 4));
        foreach (var op in new Func<Variable>[] { () => Functional.Select(x, 3, 0), () => Functional.Narrow(x, -4, 0, 1), () => Functional.Unbind(x, 5)[0] })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(op);
            Assert.Equal("axis", e.ParamName);
            Assert.Contains("[-3, 2]", e.Message, StringComparison.Ordinal);
            Assert.Contains("[2, 3, 4]", e.Message, StringComparison.Ordinal);
        }
        foreach (int index in new[] { 3, -4 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Select(x, 1, index));
            Assert.Equal("index", e.ParamName);
            Assert.Contains($"index {index} is outside [-3, 2] along axis 1", e.Message, StringComparison.Ordinal);
            Assert.Contains("[2, 3, 4]", e.Message, StringComparison.Ordinal);
        }
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => x[2]).ParamName);
        var start = Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Narrow(x, 2, 5, 0));
        Assert.Equal("start", start.ParamName);
        Assert.Contains("[-4, 4]", start.Message, StringComparison.Ordinal);
        foreach (int length in new[] { 4, -1 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Functional.Narrow(x, 2, 1, length));
            Assert.Equal("length", e.ParamName);
            Assert.Contains("[0, 3]", e.Message, StringComparison.Ordinal);
        }
        using (var tail = Functional.Narrow(x, -1, -2, 2)) Assert.Equal(new Shape(2, 3, 2), tail.Shape);
        using (var none = Functional.Narrow(x, 0, 2, 0)) Assert.Equal(new Shape(0, 3, 4), none.Shape);

        using var scalar = Variable.Parameter(Tensor.Scalar(1f));
        foreach (var op in new Func<object>[] { () => Functional.Select(scalar, 0, 0), () => Functional.Narrow(scalar, 0, 0, 1), () => Functional.Unbind(scalar) })
        {
            var e = Assert.Throws<ArgumentException>(op);
            Assert.Equal("x", e.ParamName);
            Assert.Contains("scalar", e.Message, StringComparison.Ordinal);
        }

        using var row = Variable.Constant(SpikeValues.Pack([1f, 0f, 1f, 1f, 0f], [5]));
        foreach (var op in new Func<object>[] { () => Functional.Select(row, 0, 1), () => Functional.Unbind(row) })
        {
            var e = Assert.Throws<ArgumentException>(op);
            Assert.Equal("x", e.ParamName);
            Assert.Contains("[5]", e.Message, StringComparison.Ordinal);
            Assert.Contains("Narrow(x, 0, index, 1)", e.Message, StringComparison.Ordinal);
            Assert.Contains("SpikesToDense", e.Message, StringComparison.Ordinal);
        }
        using var one = Functional.Narrow(row, 0, -2, 1);
        Assert.True(one.IsSpikes);
        SpikeAssert.Equal([1f], one.Spikes!, "the fourth bit of [1, 0, 1, 1, 0]");
        using var empty = Variable.Parameter(Tensor.Zeros(0, 3));
        Assert.Empty(Functional.Unbind(empty));
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void Where_matches_the_reference_and_sends_the_gradient_by_the_bits(WhereCase c)
    {
        var bits = c.Bits();
        var av = c.ACase.Values();
        var bv = c.BCase.Values();
        var (dims, expected) = Reference.Where(bits, c.Condition, av, c.A, bv, c.B);
        using var u = Variable.Parameter(Tensor.FromSpan(ShapeOpTests.Shifted(bits), new Shape(c.Condition)));
        using var condition = SpikeSourceNode.Apply(u);
        using var a = Variable.Parameter(c.ACase.Create());
        using var b = Variable.Parameter(c.BCase.Create());
        using var y = Functional.Where(condition, a, b);
        Assert.False(y.IsSpikes);
        Assert.Equal(new Shape(dims), y.Shape);
        Reference.AssertRounded(expected, y.Dense.AsReadOnlySpan(), $"where {c}");

        var g = new TensorCase(dims, c.Seed + 7);
        var gv = g.Values();
        using (var seed = g.Create()) y.Backward(seed);
        var toA = new double[gv.Length];
        var toB = new double[gv.Length];
        var ones = new float[gv.Length];
        Array.Fill(ones, 1f);
        var zeros = new float[gv.Length];
        var taken = Reference.Where(bits, c.Condition, ones, dims, zeros, dims).Values;
        for (int e = 0; e < gv.Length; e++) (taken[e] != 0 ? toA : toB)[e] = gv[e];
        var (da, aScale) = Reference.SumTo(toA, dims, c.A);
        var (db, bScale) = Reference.SumTo(toB, dims, c.B);
        Reference.AssertClose(da, a.Grad!.AsReadOnlySpan(), aScale, 1e-6, 1e-7, $"where {c}: gradient of a");
        Reference.AssertClose(db, b.Grad!.AsReadOnlySpan(), bScale, 1e-6, 1e-7, $"where {c}: gradient of b");
        Assert.Null(u.Grad);
    }

    [Property(Arbitrary = new[] { typeof(SmallGenerators) }, MaxTest = 25)]
    public void Where_and_MaskedFill_pass_gradient_checks(WhereCase c)
    {
        using var condition = Variable.Constant(SpikeValues.Pack(c.Bits(), c.Condition));
        GradAssert.Passes(v => Functional.Where(condition, v[0], v[1]), $"where {c}", c.ACase.Create(), c.BCase.Create());
        var dims = Reference.Where(c.Bits(), c.Condition, c.ACase.Values(), c.A, c.BCase.Values(), c.B).Dims;
        GradAssert.Passes(v => Functional.MaskedFill(v[0], condition, -2.5f), $"masked fill {c}", new TensorCase(dims, c.Seed + 3).Create());
    }

    [Property(Arbitrary = new[] { typeof(Generators) }, MaxTest = 40)]
    public void MaskedFill_writes_the_value_where_the_mask_is_set(WhereCase c)
    {
        var bits = c.Bits();
        var x = new TensorCase(Reference.Where(bits, c.Condition, c.ACase.Values(), c.A, c.BCase.Values(), c.B).Dims, c.Seed + 3);
        var xv = x.Values();
        var fill = new float[] { 0.75f };
        var (_, expected) = Reference.Where(bits, c.Condition, fill, [], xv, x.Dims);
        using var mask = Variable.Constant(SpikeValues.Pack(bits, c.Condition));
        using var xs = Variable.Parameter(x.Create());
        using var y = Functional.MaskedFill(xs, mask, 0.75f);
        Assert.Equal(x.Shape, y.Shape);
        Reference.AssertRounded(expected, y.Dense.AsReadOnlySpan(), $"masked fill {c}");
        var g = new TensorCase(x.Dims, c.Seed + 4);
        using (var seed = g.Create()) y.Backward(seed);
        var zeroFill = new float[] { 0f };
        var (_, dx) = Reference.Where(bits, c.Condition, zeroFill, [], g.Values(), x.Dims);
        Reference.AssertRounded(dx, xs.Grad!.AsReadOnlySpan(), $"masked fill {c}: gradient");
    }

    [Fact]
    public void Where_and_MaskedFill_errors_name_the_argument_and_the_shapes()
    {
        using var bits = Variable.Constant(SpikeTensor.Zeros(2, 3));
        using var dense = Variable.Parameter(Tensor.Zeros(2, 3));
        using var row = Variable.Parameter(Tensor.Zeros(3));
        using var four = Variable.Parameter(Tensor.Zeros(4));
        using var five = Variable.Parameter(Tensor.Zeros(5));

        var e = Assert.Throws<ArgumentException>(() => Functional.Where(dense, row, row));
        Assert.Equal("condition", e.ParamName);
        Assert.Contains("as spikes", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => Functional.Where(bits, bits, row));
        Assert.Equal("a", e.ParamName);
        Assert.Contains("SpikesToDense", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => Functional.Where(bits, four, row));
        Assert.Equal("a", e.ParamName);
        Assert.Contains("[4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => Functional.Where(bits, row, five));
        Assert.Equal("b", e.ParamName);
        Assert.Contains("[5]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[2, 3]", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => Functional.MaskedFill(row, bits, 1f));
        Assert.Equal("mask", e.ParamName);
        Assert.Contains("mask' has shape [2, 3]", e.Message, StringComparison.Ordinal);
        Assert.Contains("'x', [3]", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => Functional.MaskedFill(dense, row, 1f));
        Assert.Equal("mask", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => Functional.MaskedFill(bits, bits, 1f));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("SpikesToDense", e.Message, StringComparison.Ordinal);
        using var masked = Functional.MaskedFill(dense, bits, 1f);
        Assert.Equal(new float[6], masked.Dense.ToArray());
    }
}
