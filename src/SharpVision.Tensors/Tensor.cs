using System.Numerics.Tensors;
using SharpVision.Tensors.Autograd;

namespace SharpVision.Tensors;

/// <summary>
/// A float32 tensor: a <see cref="Shape"/> and contiguous row-major storage, plus what autograd needs: a gradient
/// buffer and, for results of differentiable operations, the inputs and the backward step that produced it.
/// </summary>
/// <remarks>
/// Owns managed memory only, so it is not <see cref="IDisposable"/>. <see cref="Reshape"/> is a view that shares
/// <see cref="Data"/>; every other operation returns new storage. Operations live in <see cref="Ops"/>.
/// </remarks>
public sealed class Tensor
{
    /// <summary>A tensor over <paramref name="data"/> (not copied).</summary>
    /// <exception cref="ArgumentException">The data length is not the shape's size.</exception>
    public Tensor(Shape shape, float[] data, bool requiresGrad = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length != shape.Size) throw new ArgumentException($"Shape {shape} needs {shape.Size} values, got {data.Length}.", nameof(data));
        Shape = shape;
        Data = data;
        RequiresGrad = requiresGrad;
    }

    /// <summary>Dimensions, outermost first.</summary>
    public Shape Shape { get; }

    /// <summary>The values, row-major.</summary>
    public float[] Data { get; }

    /// <summary>∂L/∂this after <see cref="Backward()"/>; null until a gradient reaches it. Accumulates across backward passes until cleared.</summary>
    public float[]? Grad { get; set; }

    /// <summary>Whether gradients flow to this tensor (true for parameters and for results computed from them).</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>Optional name, e.g. "layers.0.weight"; shown in gradient-check reports.</summary>
    public string? Name { get; set; }

    /// <summary>The operation that produced this tensor ("matmul", "relu", ...), or null for a leaf.</summary>
    public string? Operation { get; private set; }

    internal Tensor[] Parents { get; private set; } = [];

    internal Action? BackwardStep { get; private set; }

    /// <summary>Number of elements.</summary>
    public int Size => Data.Length;

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(params ReadOnlySpan<int> dims) => new(new Shape(dims), new float[new Shape(dims).Size]);

    /// <summary>A tensor over <paramref name="data"/> with the given dimensions.</summary>
    public static Tensor From(float[] data, params ReadOnlySpan<int> dims) => new(new Shape(dims), data);

    /// <summary>A rank-0 tensor holding <paramref name="value"/>.</summary>
    public static Tensor Scalar(float value) => new(new Shape(), [value]);

    /// <summary>The single value of a one-element tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element.</exception>
    public float Item() => Size == 1 ? Data[0] : throw new InvalidOperationException($"Item() needs a one-element tensor; this one is {Shape}.");

    /// <summary>The gradient buffer, allocated (zeroed) on first use; intermediate results rent it from <see cref="BufferPool"/>.</summary>
    public float[] EnsureGrad() => Grad ??= Operation is null ? new float[Size] : BufferPool.Zeroed<float>(Size);

    /// <summary>
    /// The gradient buffer for a backward step that writes every element: the existing one (<paramref name="fresh"/>
    /// false: add to it), or a new one whose contents are unspecified (true: overwrite it, skipping the zeroing).
    /// </summary>
    internal float[] GradForWriting(out bool fresh)
    {
        fresh = Grad is null;
        return Grad ??= Operation is null ? new float[Size] : BufferPool.Uninitialized<float>(Size);
    }

    /// <summary>A tensor sharing this one's storage with no history: gradients do not flow through it.</summary>
    public Tensor Detach() => new(Shape, Data);

    /// <summary>A copy of the values with no history.</summary>
    public Tensor Clone() => new(Shape, (float[])Data.Clone());

    /// <summary>The same storage seen with other dimensions (−1 once: inferred). Differentiable.</summary>
    /// <exception cref="ArgumentException">The sizes differ.</exception>
    public Tensor Reshape(params ReadOnlySpan<int> dims) => Ops.Reshape(this, dims);

    /// <summary>Marks this tensor as the output of <paramref name="operation"/> when gradients are on and an input needs one.</summary>
    internal Tensor Record(string operation, Tensor[] parents, Action backward)
    {
        Operation = operation;
        if (!GradMode.IsEnabled) return this;
        foreach (var p in parents)
        {
            if (!p.RequiresGrad) continue;
            RequiresGrad = true;
            Parents = parents;
            BackwardStep = backward;
            break;
        }
        return this;
    }

    /// <summary>Backpropagates from this scalar: ∂this/∂this = 1.</summary>
    /// <exception cref="InvalidOperationException">Not a one-element tensor, or nothing requires a gradient.</exception>
    public void Backward()
    {
        if (Size != 1) throw new InvalidOperationException($"Backward() without a gradient needs a scalar; this tensor is {Shape}. Pass the output gradient instead.");
        Backward([1f]);
    }

    /// <summary>
    /// Backpropagates <paramref name="outputGradient"/> (∂L/∂this) through the graph that produced this tensor,
    /// accumulating into the <see cref="Grad"/> of every tensor that requires one. The graph is released afterwards.
    /// </summary>
    public void Backward(ReadOnlySpan<float> outputGradient)
    {
        if (!RequiresGrad) throw new InvalidOperationException("This tensor does not require a gradient: no input of the computation did (or it ran under NoGrad).");
        if (outputGradient.Length != Size) throw new ArgumentException($"Output gradient has {outputGradient.Length} values; the tensor has {Size}.", nameof(outputGradient));
        TensorPrimitives.Add(EnsureGrad(), outputGradient, Grad!);
        var order = TopologicalOrder();
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var node = order[i];
            if (node.BackwardStep is { } step && node.Grad is not null) step();
        }
        // Release the graph (like PyTorch without retain_graph): intermediate buffers can be collected.
        foreach (var node in order)
        {
            if (node.BackwardStep is null) continue;
            node.BackwardStep = null;
            node.Parents = [];
        }
    }

    // Post-order depth-first search with an explicit stack: deep graphs cannot overflow the call stack.
    private List<Tensor> TopologicalOrder()
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor Node, int NextParent)>();
        stack.Push((this, 0));
        visited.Add(this);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node.Parents.Length)
            {
                stack.Push((node, next + 1));
                var parent = node.Parents[next];
                if (parent.RequiresGrad && visited.Add(parent)) stack.Push((parent, 0));
            }
            else
            {
                order.Add(node);
            }
        }
        return order;
    }

    /// <summary>"Tensor(2, 3) relu".</summary>
    public override string ToString() => $"Tensor{Shape}{(Operation is null ? "" : " " + Operation)}{(Name is null ? "" : " " + Name)}";
}
