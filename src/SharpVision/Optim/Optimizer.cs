using SharpVision.Tensors;

namespace SharpVision.Optim;

/// <summary>
/// Base of the gradient optimizers: owns the parameter list, the learning rate, the step count and the per-parameter
/// state buffers, and knows how to export and import that state for checkpoints. A subclass supplies the update rule
/// (<see cref="Update"/>) and registers its buffers with <see cref="AddBuffers"/> and <see cref="AddCounters"/>.
/// </summary>
/// <remarks>
/// <para>Usage per batch: <c>optimizer.ZeroGrad(); loss.Backward(); optimizer.LearningRate = schedule.At(step); optimizer.Step();</c></para>
/// <para>
/// State entries are named "&lt;buffer&gt;.&lt;parameter&gt;" (e.g. "momentum.layers.0.weight", "adam.m.layers.0.weight"), plus
/// "step" for <see cref="StepCount"/>. A parameter without a <see cref="Tensor.Name"/> is keyed by its position, "[3]".
/// Counters are stored as two exactly representable floats (low 24 bits, high bits), so a float-only checkpoint
/// format holds them without rounding. Hyperparameters (options, learning rate, momentum) are not state: the run's
/// configuration and its schedule restore them.
/// </para>
/// <para>Determinism: the update loops are elementwise, so results do not depend on the thread count.</para>
/// </remarks>
public abstract class Optimizer
{
    /// <summary>The name of the state entry holding <see cref="StepCount"/>.</summary>
    public const string StepEntryName = "step";

    // Counters are split into 24-bit halves: every integer below 2^24 is exact in float32.
    private const long CounterHalf = 1L << 24;

    private readonly Tensor[] _parameters;
    private readonly string[] _keys;
    private readonly Dictionary<string, int> _indexOfKey;
    private readonly List<StateSlot> _slots = [];
    private readonly int _largestParameter;
    private float[]? _scratch0, _scratch1;
    private double _learningRate;
    private double[]? _factors;
    private double _factor = 1;

    /// <summary>Validates and stores the parameters and the initial learning rate.</summary>
    /// <exception cref="ArgumentException">No parameters; a null or repeated tensor; one that does not require a gradient; two with the same name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate is not a finite number &gt; 0.</exception>
    protected Optimizer(IReadOnlyList<Tensor> parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw new ArgumentException("An optimizer needs at least one parameter.", nameof(parameters));
        Hyperparameter.RequirePositive(learningRate, "LearningRate");
        _parameters = new Tensor[parameters.Count];
        _keys = new string[parameters.Count];
        _indexOfKey = new Dictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i] ?? throw new ArgumentException($"Parameter [{i}] is null.", nameof(parameters));
            if (!p.RequiresGrad) throw new ArgumentException($"Parameter {Describe(p, i)} does not require a gradient (RequiresGrad is false).", nameof(parameters));
            if (!seen.Add(p)) throw new ArgumentException($"Parameter {Describe(p, i)} appears more than once; it would be updated twice per step.", nameof(parameters));
            string key = p.Name ?? $"[{i}]";
            if (!_indexOfKey.TryAdd(key, i)) throw new ArgumentException($"Two parameters are named '{key}' (positions {_indexOfKey[key]} and {i}); names key the optimizer state.", nameof(parameters));
            _parameters[i] = p;
            _keys[i] = key;
            _largestParameter = Math.Max(_largestParameter, p.Size);
        }
        _learningRate = learningRate;
    }

    /// <summary>The parameters, in the order given.</summary>
    public IReadOnlyList<Tensor> Parameters => _parameters;

    /// <summary>The learning rate of the next <see cref="Step"/>; a schedule sets it before every step. Zero freezes the parameters.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, infinite or NaN.</exception>
    public double LearningRate
    {
        get => _learningRate * _factor; // inside Step, the rate of the parameter being updated
        set
        {
            if (!(value >= 0) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be a finite number ≥ 0.");
            _learningRate = value;
        }
    }

    /// <summary>
    /// Multiplies the learning rate of <paramref name="parameter"/> by <paramref name="factor"/> in every later step,
    /// as a PyTorch parameter group with lr = factor·lr does (fine-tuning: a pretrained body learns slower than a new
    /// head). Schedules keep setting the base rate; weight decay that scales with the rate (AdamW) scales with it too.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not one of this optimizer's parameters.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The factor is not a finite number ≥ 0.</exception>
    public void SetLearningRateFactor(Tensor parameter, double factor)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        if (!(factor >= 0) || double.IsInfinity(factor))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The factor must be a finite number ≥ 0.");
        int index = Array.IndexOf(_parameters, parameter);
        if (index < 0) throw new ArgumentException("The tensor is not a parameter of this optimizer.", nameof(parameter));
        _factors ??= Enumerable.Repeat(1.0, _parameters.Length).ToArray();
        _factors[index] = factor;
    }

    /// <summary>How many times <see cref="Step"/> has run (restored by <see cref="ImportState"/>).</summary>
    public long StepCount { get; private set; }

    /// <summary>
    /// Updates every parameter that has a gradient (<see cref="Tensor.Grad"/> not null) with the subclass's rule;
    /// parameters without one are skipped and their state is left untouched, as in PyTorch.
    /// </summary>
    /// <exception cref="InvalidOperationException">A gradient's length differs from its parameter's (checked before anything changes).</exception>
    public void Step()
    {
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            if (p.Grad is { } g && g.Length != p.Size)
                throw new InvalidOperationException($"Parameter '{_keys[i]}' has {p.Size} values but its gradient has {g.Length}.");
        }
        try
        {
            for (int i = 0; i < _parameters.Length; i++)
            {
                var p = _parameters[i];
                _factor = _factors?[i] ?? 1;
                if (p.Grad is { } g) Update(i, p.Data, g);
            }
        }
        finally
        {
            _factor = 1;
        }
        StepCount++;
    }

    /// <summary>Sets every existing gradient to zero in place (buffers are kept, so the next backward pass allocates nothing).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.Grad?.AsSpan().Clear();
    }

    /// <summary>
    /// A copy of the optimizer's state: "step" (<see cref="StepCount"/>) and every per-parameter buffer and counter,
    /// named "&lt;buffer&gt;.&lt;parameter&gt;". Buffers not started yet (e.g. SGD momentum before the first step) are absent.
    /// </summary>
    public IReadOnlyList<(string Name, float[] Values)> ExportState()
    {
        var state = new List<(string Name, float[] Values)> { (StepEntryName, EncodeCounter(StepCount)) };
        foreach (var slot in _slots)
        {
            for (int i = 0; i < _parameters.Length; i++)
            {
                string name = slot.Prefix + "." + _keys[i];
                if (slot.Counters is { } counters) state.Add((name, EncodeCounter(counters[i])));
                else if (slot.Buffers![i] is { } buffer) state.Add((name, (float[])buffer.Clone()));
            }
        }
        return state;
    }

    /// <summary>
    /// Replaces the optimizer's state with <paramref name="state"/> (as produced by <see cref="ExportState"/> of an
    /// optimizer of the same kind over parameters with the same names and sizes); continuing then gives the same bits
    /// as never having stopped. Everything is validated before anything changes. Values are copied.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown, repeated or missing entry, a wrong length, or a malformed counter.</exception>
    public void ImportState(IReadOnlyList<(string Name, float[] Values)> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        long? stepCount = null;
        var found = new Dictionary<(int Slot, int Parameter), float[]>();
        foreach (var (name, values) in state)
        {
            if (name is null || values is null) throw new ArgumentException("A state entry has a null name or null values.", nameof(state));
            if (name == StepEntryName)
            {
                if (stepCount is not null) throw new ArgumentException($"State entry '{name}' appears twice.", nameof(state));
                stepCount = DecodeCounter(name, values);
                continue;
            }
            var (slotIndex, parameterIndex) = Resolve(name);
            if (!found.TryAdd((slotIndex, parameterIndex), values)) throw new ArgumentException($"State entry '{name}' appears twice.", nameof(state));
            var slot = _slots[slotIndex];
            if (slot.Counters is not null) DecodeCounter(name, values);
            else if (values.Length != _parameters[parameterIndex].Size)
                throw new ArgumentException($"State entry '{name}' has {values.Length} values; parameter '{_keys[parameterIndex]}' has {_parameters[parameterIndex].Size}.", nameof(state));
        }
        if (stepCount is null) throw new ArgumentException($"State entry '{StepEntryName}' is missing.", nameof(state));
        for (int s = 0; s < _slots.Count; s++)
        {
            if (!_slots[s].Required) continue;
            for (int i = 0; i < _parameters.Length; i++)
                if (!found.ContainsKey((s, i))) throw new ArgumentException($"State entry '{_slots[s].Prefix}.{_keys[i]}' is missing.", nameof(state));
        }

        StepCount = stepCount.Value;
        for (int s = 0; s < _slots.Count; s++)
        {
            var slot = _slots[s];
            for (int i = 0; i < _parameters.Length; i++)
            {
                found.TryGetValue((s, i), out var values);
                if (slot.Counters is { } counters) counters[i] = values is null ? 0 : DecodeCounter(slot.Prefix, values);
                else if (values is null) slot.Buffers![i] = null; // optional and absent: not started in the exporter either
                else if (slot.Buffers![i] is { } buffer) values.CopyTo(buffer, 0);
                else slot.Buffers[i] = (float[])values.Clone();
            }
        }
    }

    /// <summary>Applies the update rule to one parameter: <paramref name="parameter"/> is changed in place.</summary>
    /// <param name="index">Position of the parameter, for its state buffers.</param>
    /// <param name="parameter">The parameter's values.</param>
    /// <param name="gradient">Its gradient (same length); must not be modified.</param>
    protected abstract void Update(int index, Span<float> parameter, ReadOnlySpan<float> gradient);

    /// <summary>
    /// Registers one state buffer per parameter, exported as "<paramref name="prefix"/>.&lt;parameter&gt;".
    /// <paramref name="allocate"/> true: zero-filled now and required on import; false: the subclass creates each
    /// buffer on first use (the entry is then optional, and absent means "not started").
    /// </summary>
    protected float[]?[] AddBuffers(string prefix, bool allocate)
    {
        var buffers = new float[]?[_parameters.Length];
        if (allocate)
            for (int i = 0; i < buffers.Length; i++) buffers[i] = new float[_parameters[i].Size];
        AddSlot(new StateSlot(prefix, buffers, null, allocate));
        return buffers;
    }

    /// <summary>Registers one counter per parameter (e.g. Adam's per-parameter step), exported as "<paramref name="prefix"/>.&lt;parameter&gt;".</summary>
    protected long[] AddCounters(string prefix)
    {
        var counters = new long[_parameters.Length];
        AddSlot(new StateSlot(prefix, null, counters, true));
        return counters;
    }

    /// <summary>
    /// Scratch space of <paramref name="length"/> floats (slot 0 or 1), allocated once at the size of the largest
    /// parameter, so update loops allocate nothing per step. Its contents do not survive between calls to <see cref="Update"/>.
    /// </summary>
    protected Span<float> Scratch(int slot, int length)
    {
        ref float[]? buffer = ref slot == 0 ? ref _scratch0 : ref _scratch1;
        buffer ??= new float[_largestParameter];
        return buffer.AsSpan(0, length);
    }

    private void AddSlot(StateSlot slot)
    {
        if (string.IsNullOrEmpty(slot.Prefix) || slot.Prefix == StepEntryName) throw new ArgumentException($"Invalid state prefix '{slot.Prefix}'.", nameof(slot));
        foreach (var other in _slots)
            if (other.Prefix == slot.Prefix) throw new InvalidOperationException($"State prefix '{slot.Prefix}' is registered twice.");
        _slots.Add(slot);
    }

    private (int Slot, int Parameter) Resolve(string name)
    {
        for (int s = 0; s < _slots.Count; s++)
        {
            string prefix = _slots[s].Prefix + ".";
            if (name.StartsWith(prefix, StringComparison.Ordinal) && _indexOfKey.TryGetValue(name[prefix.Length..], out int i)) return (s, i);
        }
        string expected = string.Join(", ", _slots.Select(slot => $"'{slot.Prefix}.<parameter>'").Prepend($"'{StepEntryName}'"));
        throw new ArgumentException($"Unknown optimizer state entry '{name}' for {GetType().Name}; expected {expected} with one of this optimizer's parameter names.", "state");
    }

    private static float[] EncodeCounter(long count) => [count % CounterHalf, count / CounterHalf];

    private static long DecodeCounter(string name, float[] values)
    {
        if (values.Length != 2 || !IsHalf(values[0]) || !IsHalf(values[1]))
            throw new ArgumentException($"State entry '{name}' must hold a counter as two whole numbers in [0, 2^24): [low, high].", "state");
        return (long)values[1] * CounterHalf + (long)values[0];

        static bool IsHalf(float v) => v >= 0 && v < CounterHalf && v == MathF.Floor(v);
    }

    private static string Describe(Tensor p, int index) => p.Name is null ? $"[{index}]" : $"'{p.Name}'";

    private sealed record StateSlot(string Prefix, float[]?[]? Buffers, long[]? Counters, bool Required);
}
