namespace Spiking.Autograd;

public sealed partial class Variable
{
    /// <summary>
    /// Time step <paramref name="index"/> (axis 0; negative counts from the end): <see cref="Functional.Select"/>
    /// along axis 0, a view of the value (spikes stay bits) whose backward adds into that step's gradient only.
    /// </summary>
    /// <exception cref="System.ArgumentException">The value is a scalar, or spikes of rank 1.</exception>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="index"/> is outside <c>[-T, T)</c>.</exception>
    public Variable this[int index] => Functional.Select(this, 0, index);

    /// <summary><see cref="Functional.Add(Variable, Variable)"/>: elementwise sum with broadcasting; either operand may be spikes.</summary>
    public static Variable operator +(Variable left, Variable right) => Functional.Add(left, right);

    /// <summary><see cref="Functional.Subtract(Variable, Variable)"/>: elementwise difference with broadcasting; either operand may be spikes.</summary>
    public static Variable operator -(Variable left, Variable right) => Functional.Subtract(left, right);

    /// <summary><see cref="Functional.Multiply(Variable, Variable)"/>: elementwise product with broadcasting; spikes gate the other operand, and spikes times spikes is their AND.</summary>
    public static Variable operator *(Variable left, Variable right) => Functional.Multiply(left, right);

    /// <summary><see cref="Functional.Divide(Variable, Variable)"/>: elementwise quotient with broadcasting; either operand may be spikes.</summary>
    public static Variable operator /(Variable left, Variable right) => Functional.Divide(left, right);

    /// <summary><see cref="Functional.Negate"/>: elementwise negation.</summary>
    public static Variable operator -(Variable value) => Functional.Negate(value);

    /// <summary>Adds a constant to every element.</summary>
    public static Variable operator +(Variable left, float right) => Functional.Add(left, right);

    /// <summary>Adds a constant to every element.</summary>
    public static Variable operator +(float left, Variable right) => Functional.Add(right, left);

    /// <summary>Subtracts a constant from every element.</summary>
    public static Variable operator -(Variable left, float right) => Functional.Subtract(left, right);

    /// <summary><c>left - x</c> for every element x (a negation, then an added constant).</summary>
    public static Variable operator -(float left, Variable right) => Functional.Add(Functional.Negate(right), left);

    /// <summary>Multiplies every element by a constant.</summary>
    public static Variable operator *(Variable left, float right) => Functional.Multiply(left, right);

    /// <summary>Multiplies every element by a constant.</summary>
    public static Variable operator *(float left, Variable right) => Functional.Multiply(right, left);

    /// <summary>Divides every element by a constant.</summary>
    public static Variable operator /(Variable left, float right) => Functional.Divide(left, right);
}
