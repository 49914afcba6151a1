// Shape legend: x (N, C, H, W), W (K, C, kh, kw), b (K), y (N, K, Ho, Wo): our buffers, always plain NCHW / OIHW.
// oneDNN picks its own layouts for each pass (format_tag any: on AVX-512 usually nChw16c activations and
// OIhw16i16o-like weights); plain buffers are reordered into those layouts on the way in and back on the way out.
//   forward          y  = conv(x, W) + b                      reorders: x, W in; y out
//   backward, data   dx (+)= conv_bwd_data(dy, W)             reorders: dy, W in; dx out (with a sum post-op for +=)
//   backward, weight dW_c = conv_bwd_weights(x_c, dy_c) per chunk c of the batch, then dW += Σ_c dW_c in chunk order;
//                    db likewise                              reorders: none when x and dy are kept from the passes above
using System.Runtime.InteropServices;

namespace SharpVision.Tensors.Kernels;

/// <summary>
/// Convolution on oneDNN (libdnnl.so.2): forward (training), backward data and backward weights (+ bias) primitives,
/// run on fixed chunks of the batch by our own worker threads, each chunk single-threaded in oneDNN; plans are created
/// once per chunk geometry and pass and pooled, so a training step creates nothing.
/// </summary>
/// <remarks>
/// Each <see cref="Plan"/> holds the primitive, memory objects wrapping our plain buffers (their data handles are set
/// per call), buffers in oneDNN's preferred layouts, and the reorders between the two; a reorder is skipped when
/// oneDNN's choice is the plain layout itself. Gradients accumulate (dx += …, dW += …, db += …) like the managed
/// kernels.
/// Why chunks rather than oneDNN's own OpenMP threads: with OpenMP, a pass is split statically over its threads and
/// waits at barriers for the slowest; on this 2-core machine shared with other work (and with .NET's own workers
/// between convolutions) that ran oneDNN's passes up to 2× slower than their best, and libgomp's spinning waits stole
/// the cores from the managed layers. Here the batch is cut by N alone into at most 8 chunks (16 images each at batch
/// 128), workers claim chunks as they go (like the managed kernels' image blocks), and each chunk runs with
/// omp_set_num_threads(1). The weight gradient is summed over chunks in chunk order, so the result is the same for any
/// thread count, and deterministic.
/// </remarks>
internal sealed unsafe class OneDnnConv2d : IDisposable
{
    // At most this many chunks per batch, and at least this many images per chunk (so chunks stay efficient).
    private const int MaxChunks = 8, MinChunkImages = 16;
    // Distinct plan keys kept; past it, idle plans are freed (a network has a handful of geometries per batch size).
    private const int MaxKeys = 128;

    private readonly OneDnnNative _dnnl;
    private readonly ThreadLocal<nint> _streams;
    private readonly object _poolLock = new();
    private readonly Dictionary<PlanKey, Stack<Plan>> _idle = [];

    // One pass on one chunk geometry. Accumulate: the pass adds into its outputs (dx += …) rather than overwriting
    // them (backward data only; forward and the per-chunk weight gradients overwrite).
    private readonly record struct PlanKey(Conv2dGeometry Geometry, Conv2dPass Pass, bool Bias, bool Accumulate);

    private OneDnnConv2d(OneDnnNative dnnl)
    {
        _dnnl = dnnl;
        // A stream per OS thread: workers execute concurrently.
        _streams = new ThreadLocal<nint>(() =>
        {
            nint stream;
            OneDnnNative.Check(dnnl.StreamCreate(&stream, dnnl.Engine, OneDnnNative.StreamDefaultFlags), "dnnl_stream_create");
            return stream;
        });
    }

    /// <summary>The backend, or null with <paramref name="reason"/> when libdnnl.so.2 is unusable.</summary>
    public static OneDnnConv2d? TryCreate(out string reason)
    {
        var native = OneDnnNative.TryLoad(out reason);
        if (native is null) return null;
        try
        {
            var backend = new OneDnnConv2d(native);
            backend.SelfTest();
            return backend;
        }
        catch (InvalidOperationException e)
        {
            reason = e.Message;
            return null;
        }
    }

    /// <summary>"2.6.3 (OpenMP)".</summary>
    public string Version => _dnnl.Version;

    /// <summary>The chunks of a batch: [start, end) image ranges fixed by N alone, sizes differing by at most one.</summary>
    internal static (int Start, int Count)[] Chunks(int batch)
    {
        int chunks = Math.Clamp(batch / MinChunkImages, 1, MaxChunks);
        var result = new (int, int)[chunks];
        for (int c = 0; c < chunks; c++)
        {
            int start = (int)((long)batch * c / chunks), end = (int)((long)batch * (c + 1) / chunks);
            result[c] = (start, end - start);
        }
        return result;
    }

    /// <summary>
    /// y = conv(x, W) + b (b may be null). With <paramref name="keepSource"/>, x stays available in oneDNN's layout:
    /// the returned <see cref="SavedInput"/> (null when the layout is plain) can be passed to <see cref="Backward"/>,
    /// which then skips reordering x again; dispose it after the backward pass.
    /// </summary>
    public SavedInput? Forward(in Conv2dGeometry g, float* x, float* weight, float* bias, float* y, int threads, bool keepSource = false)
    {
        var chunks = Chunks(g.Batch);
        var saved = keepSource ? new SavedSource?[chunks.Length] : null;
        var geometry = g; // lambdas cannot capture an in parameter
        nint px = (nint)x, pw = (nint)weight, pb = (nint)bias, py = (nint)y;
        RunChunks(chunks.Length, threads, c =>
        {
            var (start, count) = chunks[c];
            var key = new PlanKey(geometry with { Batch = count }, Conv2dPass.Forward, pb != 0, false);
            var plan = Rent(key);
            try
            {
                var keep = saved is null ? null : saved[c] = plan.RentSource(_dnnl);
                plan.Execute(_dnnl, _streams.Value, [px + (nint)start * geometry.InputImageSize * sizeof(float), pw, pb, py + (nint)start * geometry.OutputImageSize * sizeof(float)], [keep]);
            }
            finally
            {
                Return(key, plan);
            }
        });
        return saved is null || Array.TrueForAll(saved, s => s is null) ? null : new SavedInput(saved);
    }

    /// <summary>
    /// Both gradients of one layer from one dy: dx (+)= ∂(conv)/∂x·dy when <paramref name="inputGradient"/> is not
    /// null (added when <paramref name="accumulateInput"/>, else overwritten), dW += Σ_n dy_n ⋆ x_n when
    /// <paramref name="weightGradient"/> is not null, and db += Σ dy when <paramref name="biasGradient"/> is not null
    /// too. Per chunk, dy is reordered once for both passes, and x not at all when <paramref name="savedInput"/>
    /// (from <see cref="Forward"/>) holds it in the layout the weight pass reads.
    /// </summary>
    public void Backward(in Conv2dGeometry g, float* outputGradient, float* x, float* weight, float* inputGradient, bool accumulateInput,
        float* weightGradient, float* biasGradient, int threads, SavedInput? savedInput = null)
    {
        if (biasGradient is not null && weightGradient is null) throw new ArgumentException("oneDNN computes the bias gradient with the weight gradient.", nameof(weightGradient));
        if (inputGradient is null && weightGradient is null) return;
        var chunks = Chunks(g.Batch);
        var geometry = g;
        int weightSize = g.Filters * g.PatchSize, k = g.Filters;
        bool withBias = biasGradient is not null;
        // Per chunk: its own dW (and db), summed below in chunk order.
        float* partials = weightGradient is null ? null : (float*)NativeMemory.Alloc((nuint)(chunks.Length * (weightSize + k)), sizeof(float));
        try
        {
            nint pdy = (nint)outputGradient, px = (nint)x, pw = (nint)weight, pdx = (nint)inputGradient, pparts = (nint)partials;
            var saved = savedInput?.Chunks;
            RunChunks(chunks.Length, threads, c =>
            {
                var (start, count) = chunks[c];
                var chunk = geometry with { Batch = count };
                nint dy = pdy + (nint)start * geometry.OutputImageSize * sizeof(float);
                Plan? data = null, weights = null;
                PlanKey dataKey = new(chunk, Conv2dPass.BackwardData, false, accumulateInput), weightKey = new(chunk, Conv2dPass.BackwardWeight, withBias, false);
                try
                {
                    nint stream = _streams.Value;
                    if (pdx != 0)
                    {
                        data = Rent(dataKey);
                        data.Execute(_dnnl, stream, [dy, pw, pdx + (nint)start * geometry.InputImageSize * sizeof(float)], []);
                    }
                    if (pparts != 0)
                    {
                        weights = Rent(weightKey);
                        var stagedDy = data?.Staged(OneDnnNative.ArgDiffDestination); // holds this chunk's dy now
                        if (stagedDy is not null) stagedDy.Filled = true;
                        var keptX = saved is not null && saved[c] is { Filled: true } kept ? kept : null;
                        nint part = pparts + (nint)c * (weightSize + k) * sizeof(float);
                        weights.Execute(_dnnl, stream, [px + (nint)start * geometry.InputImageSize * sizeof(float), dy, part, withBias ? part + weightSize * sizeof(float) : 0],
                            [stagedDy, keptX]);
                        if (stagedDy is not null) stagedDy.Filled = false;
                    }
                }
                finally
                {
                    if (data is not null) Return(dataKey, data);
                    if (weights is not null) Return(weightKey, weights);
                }
            });
            if (weightGradient is null) return;
            var dw = new Span<float>(weightGradient, weightSize);
            for (int c = 0; c < chunks.Length; c++)
                System.Numerics.Tensors.TensorPrimitives.Add(dw, new ReadOnlySpan<float>(partials + (nint)c * (weightSize + k), weightSize), dw);
            if (!withBias) return;
            var db = new Span<float>(biasGradient, k);
            for (int c = 0; c < chunks.Length; c++)
                System.Numerics.Tensors.TensorPrimitives.Add(db, new ReadOnlySpan<float>(partials + (nint)c * (weightSize + k) + weightSize, k), db);
        }
        finally
        {
            if (partials is not null) NativeMemory.Free(partials);
        }
    }

    /// <summary>The oneDNN implementation a pass runs on for one chunk of this geometry (e.g. "jit:avx512_core").</summary>
    internal string Implementation(in Conv2dGeometry g, Conv2dPass pass, bool bias)
    {
        var key = new PlanKey(g with { Batch = Chunks(g.Batch)[0].Count }, pass, bias, false);
        var plan = Rent(key);
        try
        {
            return plan.Implementation;
        }
        finally
        {
            Return(key, plan);
        }
    }

    /// <summary>
    /// Runs work(chunk) for every chunk: on the caller in order with one thread, else on up to <paramref name="threads"/>
    /// workers that claim chunks as they go. Each worker runs oneDNN single-threaded.
    /// </summary>
    private void RunChunks(int chunks, int threads, Action<int> work)
    {
        if (threads <= 1 || chunks == 1)
        {
            _dnnl.SetThreads(1);
            for (int c = 0; c < chunks; c++) work(c);
            return;
        }
        int workers = Math.Min(threads, chunks);
        int next = -1;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
        {
            _dnnl.SetThreads(1);
            for (int c = Interlocked.Increment(ref next); c < chunks; c = Interlocked.Increment(ref next)) work(c);
        });
    }

    // A plan for the key, for the caller alone until Return.
    private Plan Rent(PlanKey key)
    {
        lock (_poolLock)
        {
            if (_idle.TryGetValue(key, out var stack) && stack.Count > 0) return stack.Pop();
        }
        _dnnl.SetThreads(1); // primitives are tuned for the thread count at creation
        return Plan.Create(_dnnl, key);
    }

    private void Return(PlanKey key, Plan plan)
    {
        lock (_poolLock)
        {
            if (!_idle.TryGetValue(key, out var stack))
            {
                if (_idle.Count >= MaxKeys) FreeIdle();
                _idle[key] = stack = new Stack<Plan>();
            }
            stack.Push(plan);
        }
    }

    // Under _poolLock: frees every idle plan (plans in use come back later and start the pool again).
    private void FreeIdle()
    {
        foreach (var stack in _idle.Values)
            while (stack.Count > 0) stack.Pop().Dispose(_dnnl);
        _idle.Clear();
    }

    public void Dispose()
    {
        lock (_poolLock) FreeIdle();
    }

    /// <summary>x of one layer kept by <see cref="Forward"/> in oneDNN's layout, per chunk; dispose it after the backward pass.</summary>
    internal sealed class SavedInput(SavedSource?[] chunks) : IDisposable
    {
        internal SavedSource?[] Chunks { get; } = chunks;

        public void Dispose()
        {
            foreach (var chunk in Chunks) chunk?.Dispose();
        }
    }

    // One 1×1 convolution of a 1×1 image by hand: fails loudly (and leaves the toolkit on the managed path) if the
    // calling convention or descriptor sizes were wrong for this build.
    private void SelfTest()
    {
        var g = new Conv2dGeometry(1, 2, 1, 1, 1, 1, 1, 1, 0);
        float* x = stackalloc float[] { 2, 3 };
        float* w = stackalloc float[] { 5, 7 };
        float* b = stackalloc float[] { 0.5f };
        float y = 0;
        Forward(g, x, w, b, &y, 1);
        if (y != 2 * 5 + 3 * 7 + 0.5f) throw new InvalidOperationException($"oneDNN self-test: 1×1 convolution gave {y}, expected 31.5.");
        Dispose();
    }

    /// <summary>
    /// One primitive and its arguments. Argument i (in the order the public methods pass pointers) is bound either
    /// directly to our buffer, or staged through a buffer in oneDNN's layout with a reorder in or out.
    /// </summary>
    private sealed class Plan
    {
        private readonly nint[] _descriptors; // primitive descriptors owned (the pass's and its forward hint)
        private nint _primitive;
        private readonly Argument[] _arguments;
        public readonly string Implementation;
        public bool Disposed;

        private Plan(nint[] descriptors, nint primitive, Argument[] arguments, string implementation)
        {
            _descriptors = descriptors;
            _primitive = primitive;
            _arguments = arguments;
            Implementation = implementation;
        }

        public static Plan Create(OneDnnNative dnnl, PlanKey key)
        {
            var g = key.Geometry;
            long[] src = [g.Batch, g.Channels, g.Height, g.Width], weights = [g.Filters, g.Channels, g.KernelHeight, g.KernelWidth];
            long[] dst = [g.Batch, g.Filters, g.OutputHeight, g.OutputWidth], bias = [g.Filters];
            long[] strides = [g.Stride, g.Stride], padL = [g.Padding, g.Padding];
            long[] padR = padL; // symmetric: oneDNN's ⌊(H + 2·pad − kh)/s⌋ + 1 is our Ho
            var anySrc = dnnl.Descriptor(src, any: true);
            var anyWeights = dnnl.Descriptor(weights, any: true);
            var anyDst = dnnl.Descriptor(dst, any: true);
            var plainBias = dnnl.Descriptor(bias, any: false);
            var descriptors = new List<nint>();
            var arguments = new List<Argument>();
            try
            {
                nint forward = CreateForward(dnnl, &anySrc, &anyWeights, key.Bias ? &plainBias : null, &anyDst, strides, padL, padR);
                descriptors.Add(forward);
                nint pd = forward;
                switch (key.Pass)
                {
                    case Conv2dPass.Forward:
                        arguments.Add(Argument.Input(dnnl, OneDnnNative.ArgSource, dnnl.Query(pd, OneDnnNative.QuerySourceMd), src));
                        arguments.Add(Argument.Input(dnnl, OneDnnNative.ArgWeights, dnnl.Query(pd, OneDnnNative.QueryWeightsMd), weights));
                        arguments.Add(key.Bias ? Argument.Input(dnnl, OneDnnNative.ArgBias, plainBias, bias) : Argument.None);
                        arguments.Add(Argument.Output(dnnl, OneDnnNative.ArgDestination, dnnl.Query(pd, OneDnnNative.QueryDestinationMd), dst, accumulate: false));
                        break;
                    case Conv2dPass.BackwardData:
                    {
                        OneDnnNative.ConvolutionDescriptor desc;
                        fixed (long* s = strides, l = padL, r = padR)
                            OneDnnNative.Check(dnnl.ConvolutionBackwardDataDescInit(&desc, OneDnnNative.ConvolutionDirect, &anySrc, &anyWeights, &anyDst, s, l, r), "dnnl_convolution_backward_data_desc_init");
                        pd = CreateDescriptor(dnnl, &desc, forward, "backward data");
                        descriptors.Add(pd);
                        arguments.Add(Argument.Input(dnnl, OneDnnNative.ArgDiffDestination, dnnl.Query(pd, OneDnnNative.QueryDiffDestinationMd), dst));
                        arguments.Add(Argument.Input(dnnl, OneDnnNative.ArgWeights, dnnl.Query(pd, OneDnnNative.QueryWeightsMd), weights));
                        arguments.Add(Argument.Output(dnnl, OneDnnNative.ArgDiffSource, dnnl.Query(pd, OneDnnNative.QueryDiffSourceMd), src, accumulate: key.Accumulate));
                        break;
                    }
                    case Conv2dPass.BackwardWeight:
                    {
                        OneDnnNative.ConvolutionDescriptor desc;
                        fixed (long* s = strides, l = padL, r = padR)
                            OneDnnNative.Check(dnnl.ConvolutionBackwardWeightsDescInit(&desc, OneDnnNative.ConvolutionDirect, &anySrc, &anyWeights,
                                key.Bias ? &plainBias : null, &anyDst, s, l, r), "dnnl_convolution_backward_weights_desc_init");
                        pd = CreateDescriptor(dnnl, &desc, forward, "backward weights");
                        descriptors.Add(pd);
                        arguments.Add(Argument.Input(dnnl, OneDnnNative.ArgSource, dnnl.Query(pd, OneDnnNative.QuerySourceMd), src));
                        arguments.Add(Argument.Input(dnnl, OneDnnNative.ArgDiffDestination, dnnl.Query(pd, OneDnnNative.QueryDiffDestinationMd), dst));
                        arguments.Add(Argument.Output(dnnl, OneDnnNative.ArgDiffWeights, dnnl.Query(pd, OneDnnNative.QueryDiffWeightsMd), weights, key.Accumulate));
                        arguments.Add(key.Bias ? Argument.Output(dnnl, OneDnnNative.ArgDiffBias, plainBias, bias, key.Accumulate) : Argument.None);
                        break;
                    }
                }
                nint primitive;
                OneDnnNative.Check(dnnl.PrimitiveCreate(&primitive, pd), "dnnl_primitive_create");
                return new Plan([.. descriptors], primitive, [.. arguments], dnnl.ImplementationName(pd));
            }
            catch
            {
                foreach (var argument in arguments) argument.Dispose(dnnl);
                foreach (nint d in descriptors) dnnl.PrimitiveDescDestroy(d);
                throw;
            }
        }

        private static nint CreateForward(OneDnnNative dnnl, OneDnnNative.MemoryDescriptor* src, OneDnnNative.MemoryDescriptor* weights,
            OneDnnNative.MemoryDescriptor* bias, OneDnnNative.MemoryDescriptor* dst, long[] strides, long[] padL, long[] padR)
        {
            OneDnnNative.ConvolutionDescriptor desc;
            fixed (long* s = strides, l = padL, r = padR)
                OneDnnNative.Check(dnnl.ConvolutionForwardDescInit(&desc, OneDnnNative.ForwardTraining, OneDnnNative.ConvolutionDirect, src, weights, bias, dst, s, l, r),
                    "dnnl_convolution_forward_desc_init");
            return CreateDescriptor(dnnl, &desc, 0, "forward");
        }

        private static nint CreateDescriptor(OneDnnNative dnnl, OneDnnNative.ConvolutionDescriptor* desc, nint hint, string what)
        {
            nint pd;
            OneDnnNative.Check(dnnl.PrimitiveDescCreate(&pd, desc, 0, dnnl.Engine, hint), $"dnnl_primitive_desc_create (convolution {what})");
            return pd;
        }

        /// <summary>
        /// Runs the pass on our buffers (<paramref name="pointers"/> in the order the public methods list them).
        /// An input whose kind and layout match one of <paramref name="shared"/> uses that buffer instead of its own
        /// staging: it reads it when it is <see cref="StagedBuffer.Filled"/> (no reorder), else reorders into it.
        /// </summary>
        public void Execute(OneDnnNative dnnl, nint stream, ReadOnlySpan<nint> pointers, ReadOnlySpan<StagedBuffer?> shared)
        {
            var args = stackalloc OneDnnNative.ExecArgument[_arguments.Length];
            int count = 0;
            for (int i = 0; i < _arguments.Length; i++)
            {
                var a = _arguments[i];
                if (a.Kind == 0) continue;
                var buffer = a.IsOutput ? null : Find(dnnl, a, shared);
                if (buffer is not null)
                {
                    if (!buffer.Filled)
                    {
                        a.Bind(dnnl, pointers[i]);
                        a.ReorderInto(dnnl, stream, buffer.Memory);
                        buffer.Filled = true;
                    }
                    args[count++] = new OneDnnNative.ExecArgument(a.Kind, buffer.Memory);
                    continue;
                }
                a.Bind(dnnl, pointers[i]);
                if (!a.IsOutput) a.Reorder(dnnl, stream);
                args[count++] = new OneDnnNative.ExecArgument(a.Kind, a.PrimitiveMemory);
            }
            OneDnnNative.Check(dnnl.PrimitiveExecute(_primitive, stream, count, args), "dnnl_primitive_execute (convolution)");
            foreach (var a in _arguments)
                if (a.IsOutput) a.Reorder(dnnl, stream);
            OneDnnNative.Check(dnnl.StreamWait(stream), "dnnl_stream_wait");

            static StagedBuffer? Find(OneDnnNative dnnl, Argument a, ReadOnlySpan<StagedBuffer?> shared)
            {
                foreach (var b in shared)
                    if (b is not null && b.Kind == a.Kind && a.HasLayout(dnnl, b)) return b;
                return null;
            }
        }

        /// <summary>This plan's staged input of a kind, holding what the last <see cref="Execute"/> reordered into it; null when not staged.</summary>
        public StagedBuffer? Staged(int kind) => Array.Find(_arguments, a => a.Kind == kind && !a.IsOutput)?.Staging;

        private readonly Stack<SavedSource> _spareSources = new();

        /// <summary>An empty buffer in this forward plan's source layout (null when the source is not staged).</summary>
        public SavedSource? RentSource(OneDnnNative dnnl)
        {
            var source = Array.Find(_arguments, a => a.Kind == OneDnnNative.ArgSource);
            if (source?.Staging is not { } staging) return null;
            SavedSource? saved;
            lock (_spareSources) saved = _spareSources.Count > 0 ? _spareSources.Pop() : null;
            saved ??= new SavedSource(dnnl, staging.Layout, Return);
            saved.Filled = false;
            return saved;
        }

        /// <summary>Takes a saved source back for the next forward pass, or frees it once the plan is gone.</summary>
        public void Return(SavedSource saved)
        {
            lock (_spareSources)
            {
                if (Disposed) saved.Free();
                else _spareSources.Push(saved);
            }
        }

        public void Dispose(OneDnnNative dnnl)
        {
            if (Disposed) return;
            Disposed = true;
            dnnl.PrimitiveDestroy(_primitive);
            _primitive = 0;
            foreach (var a in _arguments) a.Dispose(dnnl);
            lock (_spareSources)
                while (_spareSources.Count > 0) _spareSources.Pop().Free();
            foreach (nint d in _descriptors) dnnl.PrimitiveDescDestroy(d);
        }
    }

    /// <summary>
    /// One primitive argument: a memory object over our plain buffer (handle set per call) and, when oneDNN's layout
    /// differs or the output accumulates, a staging buffer in that layout with the reorder between the two.
    /// </summary>
    private sealed class Argument
    {
        public static readonly Argument None = new(0, false, default, 0, null, 0);

        public readonly int Kind; // DNNL_ARG_*, 0 for an absent optional argument
        public readonly bool IsOutput;
        private OneDnnNative.MemoryDescriptor _layout; // the layout the primitive reads or writes
        private nint _user, _reorder;

        private Argument(int kind, bool isOutput, OneDnnNative.MemoryDescriptor layout, nint user, StagedBuffer? staging, nint reorder)
        {
            Kind = kind;
            IsOutput = isOutput;
            _layout = layout;
            _user = user;
            Staging = staging;
            _reorder = reorder;
        }

        /// <summary>The buffer in oneDNN's layout between our buffer and the primitive, or null when the primitive uses ours.</summary>
        public StagedBuffer? Staging { get; private set; }

        /// <summary>True when the primitive reads this argument in <paramref name="buffer"/>'s layout.</summary>
        public bool HasLayout(OneDnnNative dnnl, StagedBuffer buffer)
        {
            fixed (OneDnnNative.MemoryDescriptor* mine = &_layout, theirs = &buffer.Layout)
                return dnnl.MemoryDescEqual(mine, theirs) != 0;
        }

        /// <summary>The memory the primitive reads or writes: the staging buffer if any, else our buffer.</summary>
        public nint PrimitiveMemory => Staging?.Memory ?? _user;

        public static Argument Input(OneDnnNative dnnl, int kind, OneDnnNative.MemoryDescriptor chosen, long[] dims) =>
            Create(dnnl, kind, isOutput: false, chosen, dims, accumulate: false);

        public static Argument Output(OneDnnNative dnnl, int kind, OneDnnNative.MemoryDescriptor chosen, long[] dims, bool accumulate) =>
            Create(dnnl, kind, isOutput: true, chosen, dims, accumulate);

        private static Argument Create(OneDnnNative dnnl, int kind, bool isOutput, OneDnnNative.MemoryDescriptor chosen, long[] dims, bool accumulate)
        {
            var plain = dnnl.Descriptor(dims, any: false);
            nint user = 0, reorder = 0, attr = 0, postOps = 0, reorderPd = 0;
            StagedBuffer? staging = null;
            bool done = false;
            try
            {
                // Created with a dummy handle; Bind sets the real one before every use.
                OneDnnNative.Check(dnnl.MemoryCreate(&user, &plain, dnnl.Engine, (void*)64), "dnnl_memory_create (plain)");
                if (!accumulate && dnnl.MemoryDescEqual(&plain, &chosen) != 0)
                {
                    done = true;
                    return new Argument(kind, isOutput, chosen, user, null, 0);
                }
                staging = new StagedBuffer(dnnl, kind, chosen);
                if (accumulate)
                {
                    // reorder with a sum post-op: destination = reorder(source) + 1·destination
                    OneDnnNative.Check(dnnl.AttrCreate(&attr), "dnnl_primitive_attr_create");
                    OneDnnNative.Check(dnnl.PostOpsCreate(&postOps), "dnnl_post_ops_create");
                    OneDnnNative.Check(dnnl.PostOpsAppendSum(postOps, 1f), "dnnl_post_ops_append_sum");
                    OneDnnNative.Check(dnnl.AttrSetPostOps(attr, postOps), "dnnl_primitive_attr_set_post_ops");
                }
                var from = isOutput ? &chosen : &plain;
                var to = isOutput ? &plain : &chosen;
                OneDnnNative.Check(dnnl.ReorderPrimitiveDescCreate(&reorderPd, from, dnnl.Engine, to, dnnl.Engine, attr), "dnnl_reorder_primitive_desc_create");
                OneDnnNative.Check(dnnl.PrimitiveCreate(&reorder, reorderPd), "dnnl_primitive_create (reorder)");
                done = true;
                return new Argument(kind, isOutput, chosen, user, staging, reorder);
            }
            finally
            {
                if (reorderPd != 0) dnnl.PrimitiveDescDestroy(reorderPd);
                if (postOps != 0) dnnl.PostOpsDestroy(postOps);
                if (attr != 0) dnnl.AttrDestroy(attr);
                if (!done)
                {
                    if (reorder != 0) dnnl.PrimitiveDestroy(reorder);
                    staging?.Free();
                    if (user != 0) dnnl.MemoryDestroy(user);
                }
            }
        }

        public void Bind(OneDnnNative dnnl, nint pointer) =>
            OneDnnNative.Check(dnnl.MemorySetDataHandle(_user, (void*)pointer), "dnnl_memory_set_data_handle");

        /// <summary>Inputs: our buffer → staging; outputs: staging → our buffer (+= when accumulating). No-op when not staged.</summary>
        public void Reorder(OneDnnNative dnnl, nint stream)
        {
            if (Staging is null) return;
            if (IsOutput) Execute(dnnl, stream, Staging.Memory, _user);
            else Execute(dnnl, stream, _user, Staging.Memory);
        }

        /// <summary>Our buffer → <paramref name="memory"/>, a buffer in this input's staging layout.</summary>
        public void ReorderInto(OneDnnNative dnnl, nint stream, nint memory) => Execute(dnnl, stream, _user, memory);

        private void Execute(OneDnnNative dnnl, nint stream, nint from, nint to)
        {
            var args = stackalloc OneDnnNative.ExecArgument[2];
            args[0] = new OneDnnNative.ExecArgument(OneDnnNative.ArgFrom, from);
            args[1] = new OneDnnNative.ExecArgument(OneDnnNative.ArgTo, to);
            OneDnnNative.Check(dnnl.PrimitiveExecute(_reorder, stream, 2, args), "dnnl_primitive_execute (reorder)");
        }

        public void Dispose(OneDnnNative dnnl)
        {
            if (_reorder != 0) dnnl.PrimitiveDestroy(_reorder);
            if (_user != 0) dnnl.MemoryDestroy(_user);
            Staging?.Free();
            _reorder = _user = 0;
            Staging = null;
        }
    }

    /// <summary>A buffer in one of oneDNN's layouts (64-byte aligned, padding zeroed) with its memory object.</summary>
    // A pooled buffer: Dispose gives it back to its pool (it stays alive), Free releases the native memory for good, so
    // Free, not Dispose, is what ends finalization (CA1816's Dispose pattern does not fit a pool).
#pragma warning disable CA1816
    internal class StagedBuffer
    {
        private readonly OneDnnNative _dnnl;
        private void* _buffer;
        internal OneDnnNative.MemoryDescriptor Layout;

        internal StagedBuffer(OneDnnNative dnnl, int kind, OneDnnNative.MemoryDescriptor layout)
        {
            _dnnl = dnnl;
            Kind = kind;
            Layout = layout;
            fixed (OneDnnNative.MemoryDescriptor* md = &Layout)
            {
                nuint bytes = dnnl.MemoryDescGetSize(md);
                _buffer = NativeMemory.AlignedAlloc(Math.Max(bytes, 64), 64);
                NativeMemory.Clear(_buffer, bytes); // blocked layouts pad channels to the block: the padding must read as zeros
                nint memory;
                int status = dnnl.MemoryCreate(&memory, md, dnnl.Engine, _buffer);
                if (status != OneDnnNative.Success) NativeMemory.AlignedFree(_buffer);
                OneDnnNative.Check(status, "dnnl_memory_create (staged)");
                Memory = memory;
            }
        }

        /// <summary>The DNNL_ARG_* this buffer feeds.</summary>
        public int Kind { get; }

        /// <summary>The oneDNN memory object over the buffer.</summary>
        public nint Memory { get; private set; }

        /// <summary>True while the buffer holds the data of the call (or layer) it is shared for.</summary>
        public bool Filled { get; set; }

        /// <summary>Releases the native buffer and memory object (idempotent).</summary>
        internal void Free()
        {
            if (Memory != 0) _dnnl.MemoryDestroy(Memory);
            if (_buffer != null) NativeMemory.AlignedFree(_buffer);
            Memory = 0;
            _buffer = null;
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>
    /// x of one layer in the forward plan's source layout, kept from the forward pass for the weight gradient. Dispose
    /// it after the backward pass so the next step reuses it; one that is never disposed is freed by its finalizer.
    /// </summary>
    internal sealed class SavedSource : StagedBuffer, IDisposable
    {
        private readonly Action<SavedSource> _giveBack;

        internal SavedSource(OneDnnNative dnnl, OneDnnNative.MemoryDescriptor layout, Action<SavedSource> giveBack) : base(dnnl, OneDnnNative.ArgSource, layout) =>
            _giveBack = giveBack;

        ~SavedSource() => Free();

        public void Dispose()
        {
            Filled = false;
            _giveBack(this);
        }
    }
#pragma warning restore CA1816
}
