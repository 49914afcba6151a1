using SharpVision.Tensors;

namespace SharpVision.Nn;

/// <summary>
/// A layer or network, PyTorch-shaped: hyperparameters fixed at construction, named parameters, a <see cref="Forward"/>,
/// and a separate, repeatable <see cref="ResetParameters"/>. The closed list of layer types lives in <see cref="Architecture"/>.
/// </summary>
public abstract class Module
{
    /// <summary>Training mode (dropout active) or evaluation mode.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Randomness for training-time layers (dropout); set by <see cref="Train"/>.</summary>
    protected Rng? Random { get; private set; }

    /// <summary>y = f(x); shapes are documented on each layer.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>The layer as data: its type from the closed list and its hyperparameters.</summary>
    public abstract LayerSpec Spec { get; }

    /// <summary>Direct sub-modules with their names.</summary>
    public virtual IEnumerable<(string Name, Module Module)> Children => [];

    /// <summary>This module's own parameters (not its children's), with their local names ("weight", "bias").</summary>
    protected virtual IEnumerable<(string Name, Tensor Parameter)> OwnParameters => [];

    /// <summary>All parameters, depth first, with dotted names as in PyTorch ("0.weight", "2.bias").</summary>
    public IReadOnlyList<(string Name, Tensor Parameter)> NamedParameters()
    {
        var list = new List<(string, Tensor)>();
        Collect(this, "", list);
        return list;

        static void Collect(Module module, string prefix, List<(string, Tensor)> list)
        {
            foreach (var (name, p) in module.OwnParameters)
            {
                p.Name = prefix + name;
                list.Add((prefix + name, p));
            }
            foreach (var (name, child) in module.Children) Collect(child, prefix + name + ".", list);
        }
    }

    /// <summary>This module's own non-trainable state (batch norm's running statistics), with local names.</summary>
    protected virtual IEnumerable<(string Name, float[] Values)> OwnBuffers => [];

    /// <summary>All buffers, depth first, with dotted names ("1.running_mean"); saved in model files and checkpoints.</summary>
    public IReadOnlyList<(string Name, float[] Values)> NamedBuffers()
    {
        var list = new List<(string, float[])>();
        Collect(this, "", list);
        return list;

        static void Collect(Module module, string prefix, List<(string, float[])> list)
        {
            foreach (var (name, values) in module.OwnBuffers) list.Add((prefix + name, values));
            foreach (var (name, child) in module.Children) Collect(child, prefix + name + ".", list);
        }
    }

    /// <summary>All parameter tensors.</summary>
    public IReadOnlyList<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter).ToList();

    /// <summary>Number of trainable values.</summary>
    public long ParameterCount() => NamedParameters().Sum(p => (long)p.Parameter.Size);

    /// <summary>Draws fresh initial values from <paramref name="rng"/>; the same seed gives the same parameters.</summary>
    public void ResetParameters(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ResetOwnParameters(rng);
        foreach (var (_, child) in Children) child.ResetParameters(rng);
    }

    /// <summary>Initializes this module's own parameters.</summary>
    protected virtual void ResetOwnParameters(Rng rng) { }

    /// <summary>Training mode, with <paramref name="rng"/> as the source of dropout masks.</summary>
    public void Train(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        SetMode(true, rng);
    }

    /// <summary>Evaluation mode: dropout off.</summary>
    public void Eval() => SetMode(false, null);

    private void SetMode(bool training, Rng? rng)
    {
        Training = training;
        Random = rng;
        foreach (var (_, child) in Children) child.SetMode(training, rng);
    }
}
