using System;
using Spiking.Autograd;
using Spiking.Tensors;
using Xunit;

namespace Spiking.Tests.Autograd;

public sealed class DisposeScopeTests
{
    [Fact]
    public void Closing_a_scope_disposes_op_results_but_not_leaves()
    {
        using var w = Variable.Parameter(Tensor.Ones(new Shape(3)));
        Variable y, kept;
        using (var scope = DisposeScope.Begin())
        {
            using var x = Variable.Constant(Tensor.Ones(new Shape(3)));
            y = Functional.Multiply(w, x);
            kept = scope.MoveToOuter(Functional.Sum(y));
            kept.Backward();
            Assert.Equal(1, scope.Count);
        }
        Assert.True(y.Tensor!.IsDisposed);
        Assert.False(kept.Tensor!.IsDisposed);
        Assert.False(w.Tensor!.IsDisposed);
        Assert.Equal([1f, 1f, 1f], w.Grad!.AsReadOnlySpan().ToArray());
        kept.Dispose();
    }

    [Fact]
    public void Nested_scopes_must_close_in_order()
    {
        var outer = DisposeScope.Begin();
        var inner = DisposeScope.Begin();
        Assert.Throws<InvalidOperationException>(outer.Dispose);
        inner.Dispose();
        outer.Dispose();
    }
}
