namespace SharpVision.Tensors.Autograd;

/// <summary>Whether operations record the graph for backpropagation (per thread).</summary>
public static class GradMode
{
    [ThreadStatic] private static int _disabledDepth;

    /// <summary>True unless inside a <see cref="NoGrad"/> scope on this thread.</summary>
    public static bool IsEnabled => _disabledDepth == 0;

    /// <summary>
    /// Turns graph recording off until disposed, for inference and evaluation:
    /// <c>using (GradMode.NoGrad()) { var scores = model.Forward(x); }</c>
    /// </summary>
    public static Scope NoGrad()
    {
        _disabledDepth++;
        return new Scope();
    }

    /// <summary>Restores recording when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        public void Dispose() => _disabledDepth--;
    }
}
