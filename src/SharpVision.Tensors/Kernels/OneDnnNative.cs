// The C API of oneDNN 2.x (Debian libdnnl2, libdnnl.so.2) that the convolution backend needs, bound at run time.
// Descriptors (dnnl_memory_desc_t, 696 bytes in 2.6; dnnl_convolution_desc_t, 5,976 bytes) are treated as opaque,
// generously sized, 8-byte-aligned buffers that the *_init functions fill; handles (engine, stream, memory,
// primitive, primitive_desc, attr, post_ops) are pointers. Enum values are those of oneapi/dnnl/dnnl_types.h 2.6.
using System.Runtime.InteropServices;

namespace SharpVision.Tensors.Kernels;

/// <summary>
/// Entry points of libdnnl.so.2 and libgomp's <c>omp_set_num_threads</c>, loaded with
/// <see cref="NativeLibrary.TryLoad(string, out nint)"/>: <see cref="TryLoad(out string)"/> returns null when either library,
/// an entry point, or the CPU engine is missing, so the toolkit runs without them.
/// </summary>
/// <remarks>
/// Debian builds oneDNN 2.6 with the OpenMP runtime (<c>DNNL_CPU_RUNTIME = DNNL_RUNTIME_OMP</c> in dnnl_config.h,
/// linked against libgomp.so.1), so a primitive runs on <c>omp_get_max_threads()</c> threads of the calling OS
/// thread. libgomp keeps that setting per OS thread, hence <see cref="SetThreads"/> remembers it per thread.
/// <see cref="OneDnnConv2d"/> sets 1 on each of its workers and parallelizes over chunks of the batch itself.
/// </remarks>
internal sealed unsafe class OneDnnNative
{
    private const string LibraryName = "libdnnl.so.2";
    private const string OpenMpName = "libgomp.so.1";

    // dnnl_types.h (2.6)
    public const int Success = 0;
    public const int DataTypeF32 = 3;
    public const int FormatTagAny = 1, FormatTagA = 2, FormatTagAbcd = 5; // abcd = nchw = oihw
    public const int ForwardTraining = 64, BackwardData = 160, BackwardWeights = 192;
    public const int ConvolutionDirect = 1;
    public const int EngineCpu = 1;
    public const uint StreamDefaultFlags = 1;
    public const int QuerySourceMd = 129, QueryDiffSourceMd = 130, QueryWeightsMd = 131, QueryDiffWeightsMd = 132,
        QueryDestinationMd = 133, QueryDiffDestinationMd = 134, QueryImplementationInfo = 8;
    public const int ArgSource = 1, ArgDestination = 17, ArgWeights = 33, ArgBias = 41,
        ArgDiffSource = 129, ArgDiffDestination = 145, ArgDiffWeights = 161, ArgDiffBias = 169;
    public const int ArgFrom = ArgSource, ArgTo = ArgDestination;
    public const uint RuntimeOpenMp = 2; // DNNL_RUNTIME_OMP

    /// <summary>dnnl_memory_desc_t: 696 bytes in oneDNN 2.6, reserved generously here.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 1024)]
    public struct MemoryDescriptor
    {
        private long _alignment;
    }

    /// <summary>dnnl_convolution_desc_t: 5,976 bytes in oneDNN 2.6, reserved generously here.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 8192)]
    public struct ConvolutionDescriptor
    {
        private long _alignment;
    }

    /// <summary>dnnl_exec_arg_t: { int arg; dnnl_memory_t memory; }.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ExecArgument(int argument, nint memory)
    {
        public int Argument = argument;
        public nint Memory = memory;
    }

    /// <summary>dnnl_version_t: { int major, minor, patch; const char *hash; unsigned cpu_runtime, gpu_runtime; }.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct VersionInfo
    {
        public int Major, Minor, Patch;
        public nint Hash;
        public uint CpuRuntime, GpuRuntime;
    }

    public readonly delegate* unmanaged<nint*, int, nuint, int> EngineCreate;
    public readonly delegate* unmanaged<nint*, nint, uint, int> StreamCreate;
    public readonly delegate* unmanaged<nint, int> StreamWait;
    public readonly delegate* unmanaged<MemoryDescriptor*, int, long*, int, int, int> MemoryDescInitByTag;
    public readonly delegate* unmanaged<MemoryDescriptor*, MemoryDescriptor*, int> MemoryDescEqual;
    public readonly delegate* unmanaged<MemoryDescriptor*, nuint> MemoryDescGetSize;
    public readonly delegate* unmanaged<nint*, MemoryDescriptor*, nint, void*, int> MemoryCreate;
    public readonly delegate* unmanaged<nint, void*, int> MemorySetDataHandle;
    public readonly delegate* unmanaged<nint, int> MemoryDestroy;
    public readonly delegate* unmanaged<ConvolutionDescriptor*, int, int, MemoryDescriptor*, MemoryDescriptor*, MemoryDescriptor*, MemoryDescriptor*, long*, long*, long*, int> ConvolutionForwardDescInit;
    public readonly delegate* unmanaged<ConvolutionDescriptor*, int, MemoryDescriptor*, MemoryDescriptor*, MemoryDescriptor*, long*, long*, long*, int> ConvolutionBackwardDataDescInit;
    public readonly delegate* unmanaged<ConvolutionDescriptor*, int, MemoryDescriptor*, MemoryDescriptor*, MemoryDescriptor*, MemoryDescriptor*, long*, long*, long*, int> ConvolutionBackwardWeightsDescInit;
    public readonly delegate* unmanaged<nint*, void*, nint, nint, nint, int> PrimitiveDescCreate;
    public readonly delegate* unmanaged<nint, int, int, MemoryDescriptor*> PrimitiveDescQueryMd;
    public readonly delegate* unmanaged<nint, int, int, void*, int> PrimitiveDescQuery;
    public readonly delegate* unmanaged<nint, int> PrimitiveDescDestroy;
    public readonly delegate* unmanaged<nint*, nint, int> PrimitiveCreate;
    public readonly delegate* unmanaged<nint, nint, int, ExecArgument*, int> PrimitiveExecute;
    public readonly delegate* unmanaged<nint, int> PrimitiveDestroy;
    public readonly delegate* unmanaged<nint*, MemoryDescriptor*, nint, MemoryDescriptor*, nint, nint, int> ReorderPrimitiveDescCreate;
    public readonly delegate* unmanaged<nint*, int> AttrCreate;
    public readonly delegate* unmanaged<nint, nint, int> AttrSetPostOps;
    public readonly delegate* unmanaged<nint, int> AttrDestroy;
    public readonly delegate* unmanaged<nint*, int> PostOpsCreate;
    public readonly delegate* unmanaged<nint, float, int> PostOpsAppendSum;
    public readonly delegate* unmanaged<nint, int> PostOpsDestroy;
    private readonly delegate* unmanaged<int, void> _ompSetNumThreads;

    [ThreadStatic] private static int t_ompThreads;

    /// <summary>The CPU engine (one per process, never destroyed).</summary>
    public nint Engine { get; }

    /// <summary>"2.6.3 (OpenMP)": the library's own version and CPU threading runtime.</summary>
    public string Version { get; }

    private OneDnnNative(Func<string, nint> dnnl, nint ompSetNumThreads)
    {
        EngineCreate = (delegate* unmanaged<nint*, int, nuint, int>)dnnl("dnnl_engine_create");
        StreamCreate = (delegate* unmanaged<nint*, nint, uint, int>)dnnl("dnnl_stream_create");
        StreamWait = (delegate* unmanaged<nint, int>)dnnl("dnnl_stream_wait");
        MemoryDescInitByTag = (delegate* unmanaged<MemoryDescriptor*, int, long*, int, int, int>)dnnl("dnnl_memory_desc_init_by_tag");
        MemoryDescEqual = (delegate* unmanaged<MemoryDescriptor*, MemoryDescriptor*, int>)dnnl("dnnl_memory_desc_equal");
        MemoryDescGetSize = (delegate* unmanaged<MemoryDescriptor*, nuint>)dnnl("dnnl_memory_desc_get_size");
        MemoryCreate = (delegate* unmanaged<nint*, MemoryDescriptor*, nint, void*, int>)dnnl("dnnl_memory_create");
        MemorySetDataHandle = (delegate* unmanaged<nint, void*, int>)dnnl("dnnl_memory_set_data_handle");
        MemoryDestroy = (delegate* unmanaged<nint, int>)dnnl("dnnl_memory_destroy");
        ConvolutionForwardDescInit = (delegate* unmanaged<ConvolutionDescriptor*, int, int, MemoryDescriptor*, MemoryDescriptor*, MemoryDescriptor*, MemoryDescriptor*, long*, long*, long*, int>)dnnl("dnnl_convolution_forward_desc_init");
        ConvolutionBackwardDataDescInit = (delegate* unmanaged<ConvolutionDescriptor*, int, MemoryDescriptor*, MemoryDescriptor*, MemoryDescriptor*, long*, long*, long*, int>)dnnl("dnnl_convolution_backward_data_desc_init");
        ConvolutionBackwardWeightsDescInit = (delegate* unmanaged<ConvolutionDescriptor*, int, MemoryDescriptor*, MemoryDescriptor*, MemoryDescriptor*, MemoryDescriptor*, long*, long*, long*, int>)dnnl("dnnl_convolution_backward_weights_desc_init");
        PrimitiveDescCreate = (delegate* unmanaged<nint*, void*, nint, nint, nint, int>)dnnl("dnnl_primitive_desc_create");
        PrimitiveDescQueryMd = (delegate* unmanaged<nint, int, int, MemoryDescriptor*>)dnnl("dnnl_primitive_desc_query_md");
        PrimitiveDescQuery = (delegate* unmanaged<nint, int, int, void*, int>)dnnl("dnnl_primitive_desc_query");
        PrimitiveDescDestroy = (delegate* unmanaged<nint, int>)dnnl("dnnl_primitive_desc_destroy");
        PrimitiveCreate = (delegate* unmanaged<nint*, nint, int>)dnnl("dnnl_primitive_create");
        PrimitiveExecute = (delegate* unmanaged<nint, nint, int, ExecArgument*, int>)dnnl("dnnl_primitive_execute");
        PrimitiveDestroy = (delegate* unmanaged<nint, int>)dnnl("dnnl_primitive_destroy");
        ReorderPrimitiveDescCreate = (delegate* unmanaged<nint*, MemoryDescriptor*, nint, MemoryDescriptor*, nint, nint, int>)dnnl("dnnl_reorder_primitive_desc_create");
        AttrCreate = (delegate* unmanaged<nint*, int>)dnnl("dnnl_primitive_attr_create");
        AttrSetPostOps = (delegate* unmanaged<nint, nint, int>)dnnl("dnnl_primitive_attr_set_post_ops");
        AttrDestroy = (delegate* unmanaged<nint, int>)dnnl("dnnl_primitive_attr_destroy");
        PostOpsCreate = (delegate* unmanaged<nint*, int>)dnnl("dnnl_post_ops_create");
        PostOpsAppendSum = (delegate* unmanaged<nint, float, int>)dnnl("dnnl_post_ops_append_sum");
        PostOpsDestroy = (delegate* unmanaged<nint, int>)dnnl("dnnl_post_ops_destroy");
        _ompSetNumThreads = (delegate* unmanaged<int, void>)ompSetNumThreads;

        var version = ((delegate* unmanaged<VersionInfo*>)dnnl("dnnl_version"))();
        // DNNL_RUNTIME_SEQ = 1, OMP = 2, TBB = 4, THREADPOOL = 8
        string runtime = version->CpuRuntime switch { 1 => "sequential", RuntimeOpenMp => "OpenMP", 4 => "TBB", 8 => "threadpool", var r => $"runtime {r}" };
        Version = $"{version->Major}.{version->Minor}.{version->Patch} ({runtime})";
        CpuRuntime = version->CpuRuntime;
        MajorVersion = version->Major;

        nint engine;
        Check(EngineCreate(&engine, EngineCpu, 0), "dnnl_engine_create(cpu)");
        Engine = engine;
    }

    /// <summary>dnnl_version()->cpu_runtime (<see cref="RuntimeOpenMp"/> for Debian's build).</summary>
    public uint CpuRuntime { get; }

    /// <summary>dnnl_version()->major: the bindings are for 2.x.</summary>
    public int MajorVersion { get; }

    /// <summary>
    /// The bindings, or null (with the reason) when libdnnl.so.2 or libgomp.so.1 cannot be loaded, an entry point is
    /// missing, the library is not a 2.x build on OpenMP, or the CPU engine cannot be created.
    /// </summary>
    public static OneDnnNative? TryLoad(out string reason) => TryLoad(LibraryName, out reason);

    /// <summary><see cref="TryLoad(out string)"/> from another file name (tests name a missing one).</summary>
    internal static OneDnnNative? TryLoad(string libraryName, out string reason)
    {
        if (!NativeLibrary.TryLoad(libraryName, out nint library))
        {
            reason = $"{libraryName} could not be loaded (Debian package libdnnl2)";
            return null;
        }
        // oneDNN links libgomp, so loading it again only finds the copy already mapped.
        if (!NativeLibrary.TryLoad(OpenMpName, out nint openMp) || !NativeLibrary.TryGetExport(openMp, "omp_set_num_threads", out nint setThreads))
        {
            reason = $"{OpenMpName} (omp_set_num_threads) could not be loaded";
            return null;
        }
        string? missing = null;
        nint Export(string name)
        {
            if (NativeLibrary.TryGetExport(library, name, out nint address)) return address;
            missing ??= name;
            return 0;
        }
        foreach (string name in new[]
        {
            "dnnl_version", "dnnl_engine_create", "dnnl_stream_create", "dnnl_stream_wait", "dnnl_memory_desc_init_by_tag",
            "dnnl_memory_desc_equal", "dnnl_memory_desc_get_size", "dnnl_memory_create", "dnnl_memory_set_data_handle",
            "dnnl_memory_destroy", "dnnl_convolution_forward_desc_init", "dnnl_convolution_backward_data_desc_init",
            "dnnl_convolution_backward_weights_desc_init", "dnnl_primitive_desc_create", "dnnl_primitive_desc_query_md",
            "dnnl_primitive_desc_query", "dnnl_primitive_desc_destroy", "dnnl_primitive_create", "dnnl_primitive_execute",
            "dnnl_primitive_destroy", "dnnl_reorder_primitive_desc_create", "dnnl_primitive_attr_create",
            "dnnl_primitive_attr_set_post_ops", "dnnl_primitive_attr_destroy", "dnnl_post_ops_create",
            "dnnl_post_ops_append_sum", "dnnl_post_ops_destroy",
        })
            Export(name);
        if (missing is not null)
        {
            reason = $"{libraryName} has no entry point {missing} (not a oneDNN 2.x build)";
            return null;
        }
        try
        {
            var native = new OneDnnNative(name => Export(name), setThreads);
            if (native.MajorVersion != 2 || native.CpuRuntime != RuntimeOpenMp)
            {
                reason = $"{libraryName} is oneDNN {native.Version}; the bindings need 2.x on OpenMP";
                return null;
            }
            native.CheckDescriptorSize();
            reason = "";
            return native;
        }
        catch (InvalidOperationException e)
        {
            reason = e.Message;
            return null;
        }
    }

    /// <summary>Runs the calling thread's next oneDNN calls on <paramref name="threads"/> OpenMP threads.</summary>
    public void SetThreads(int threads)
    {
        if (t_ompThreads == threads) return;
        _ompSetNumThreads(threads);
        t_ompThreads = threads;
    }

    /// <summary>An NCHW/OIHW (<paramref name="dims"/>.Length = 4) or vector (1) float descriptor with a plain or "any" layout.</summary>
    public MemoryDescriptor Descriptor(ReadOnlySpan<long> dims, bool any)
    {
        MemoryDescriptor md;
        fixed (long* d = dims)
            Check(MemoryDescInitByTag(&md, dims.Length, d, DataTypeF32, any ? FormatTagAny : dims.Length == 1 ? FormatTagA : FormatTagAbcd), "dnnl_memory_desc_init_by_tag");
        return md;
    }

    /// <summary>The memory descriptor a primitive descriptor chose for one of its arguments (copied out).</summary>
    public MemoryDescriptor Query(nint primitiveDescriptor, int what)
    {
        var md = PrimitiveDescQueryMd(primitiveDescriptor, what, 0);
        if (md is null) throw new InvalidOperationException($"oneDNN: dnnl_primitive_desc_query_md({what}) returned NULL.");
        var copy = default(MemoryDescriptor);
        Buffer.MemoryCopy(md, &copy, sizeof(MemoryDescriptor), DescriptorBytes);
        return copy;
    }

    /// <summary>The implementation a primitive descriptor picked, e.g. "jit:avx512_core".</summary>
    public string ImplementationName(nint primitiveDescriptor)
    {
        byte* name = null;
        return PrimitiveDescQuery(primitiveDescriptor, QueryImplementationInfo, 0, &name) == Success && name is not null
            ? Marshal.PtrToStringUTF8((nint)name) ?? "?" : "?";
    }

    // sizeof(dnnl_memory_desc_t) in oneDNN 2.6 (checked against the headers); copies of queried descriptors take this many bytes.
    private const int DescriptorBytes = 696;

    // A plain 2×3×4×5 descriptor must describe exactly 120 floats: proof that the calls and the buffer size agree.
    private void CheckDescriptorSize()
    {
        var md = Descriptor([2, 3, 4, 5], any: false);
        nuint bytes = MemoryDescGetSize(&md);
        if (bytes != 120 * sizeof(float)) throw new InvalidOperationException($"oneDNN: a 2×3×4×5 float descriptor reports {bytes} bytes, not 480; the bindings do not match this build.");
    }

    /// <summary>Throws unless <paramref name="status"/> is dnnl_success.</summary>
    /// <exception cref="InvalidOperationException">The call failed; the message names it and the status.</exception>
    public static void Check(int status, string what)
    {
        if (status == Success) return;
        string name = status switch
        {
            1 => "out_of_memory", 2 => "invalid_arguments", 3 => "unimplemented", 4 => "iterator_ends",
            5 => "runtime_error", 6 => "not_required", _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        throw new InvalidOperationException($"oneDNN: {what} failed with dnnl_{name}.");
    }
}
