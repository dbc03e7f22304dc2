namespace Spiking.Autograd.Neurons;

/// <summary>The charge equation of a spiking neuron (SpikingJelly's node classes).</summary>
public enum NeuronModel
{
    /// <summary>SpikingJelly's <c>IFNode</c>: <c>h_t = v_{t-1} + x_t</c>.</summary>
    IntegrateAndFire,

    /// <summary>
    /// SpikingJelly's <c>LIFNode</c>: <c>h_t = v_{t-1} + (x_t − (v_{t-1} − v_r)) / tau</c> with
    /// <c>decay_input</c>, else <c>h_t = v_{t-1} − (v_{t-1} − v_r) / tau + x_t</c>.
    /// </summary>
    LeakyIntegrateAndFire,

    /// <summary>
    /// SpikingJelly's <c>ParametricLIFNode</c>: the LIF equations with <c>1/tau</c> replaced by <c>k = sigmoid(w)</c>, where
    /// <c>w</c> is a learnable scalar shared by all neurons of the layer.
    /// </summary>
    ParametricLeakyIntegrateAndFire,
}
