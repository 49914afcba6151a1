// The subset of ONNX's protobuf schema (onnx/onnx.proto, IR version 3–8) that SharpVision reads and writes:
//   ModelProto { ir_version 1, opset_import 8, producer_name 2, producer_version 3, domain 4, model_version 5,
//                doc_string 6, graph 7, metadata_props 14 }
//   GraphProto { node 1, name 2, initializer 5, doc_string 10, input 11, output 12, value_info 13 }
//   NodeProto { input 1, output 2, name 3, op_type 4, attribute 5, doc_string 6, domain 7 }
//   AttributeProto { name 1, f 2, i 3, s 4, t 5, g 6, floats 7, ints 8, strings 9, doc_string 13, type 20, ref_attr_name 21 }
//   TensorProto { dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, name 8, raw_data 9, double_data 10,
//                 doc_string 12, data_location 14 }
//   ValueInfoProto { name 1, type 2, doc_string 3 }; TypeProto { tensor_type 1 { elem_type 1, shape 2 { dim 1 {
//                 dim_value 1, dim_param 2 } } } }; OperatorSetIdProto { domain 1, version 2 };
//   StringStringEntryProto { key 1, value 2 }
// Fields outside the subset are skipped when reading and never written.
using System.Buffers.Binary;

namespace SharpVision.Onnx;

/// <summary>ONNX tensor element types (TensorProto.DataType).</summary>
public enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
}

/// <summary>ONNX attribute kinds (AttributeProto.AttributeType).</summary>
public enum OnnxAttributeType
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
    SparseTensor = 11,
    SparseTensors = 12,
    TypeProto = 13,
    TypeProtos = 14,
}

/// <summary>An ONNX model (ModelProto): the graph, the operator sets it uses, producer and free-form metadata.</summary>
public sealed class OnnxModel
{
    /// <summary>The ONNX IR version (3 for ONNX 1.3, 8 for ONNX 1.12).</summary>
    public long IrVersion { get; init; }

    /// <summary>Operator sets: domain ("" is the default ONNX domain) and version.</summary>
    public IReadOnlyList<OnnxOperatorSet> OperatorSets { get; init; } = [];

    public string ProducerName { get; init; } = "";

    public string ProducerVersion { get; init; } = "";

    public string Domain { get; init; } = "";

    public long ModelVersion { get; init; }

    public string DocString { get; init; } = "";

    /// <summary>The computation.</summary>
    public OnnxGraph Graph { get; init; } = new();

    /// <summary>Key/value metadata (metadata_props), in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Metadata { get; init; } = [];

    /// <summary>The version of the default ("" or "ai.onnx") operator set, or null when the model imports none.</summary>
    public long? DefaultOperatorSet =>
        OperatorSets.FirstOrDefault(o => o.Domain is "" or "ai.onnx") is { } set && (set.Domain is "" or "ai.onnx") ? set.Version : null;
}

/// <summary>An operator set import (OperatorSetIdProto).</summary>
public sealed record OnnxOperatorSet(string Domain, long Version);

/// <summary>A graph (GraphProto): nodes in file order, initializers (weights), declared inputs and outputs.</summary>
public sealed class OnnxGraph
{
    public IReadOnlyList<OnnxNode> Nodes { get; init; } = [];

    public string Name { get; init; } = "";

    /// <summary>Constant tensors by name: weights, biases, statistics, shapes.</summary>
    public IReadOnlyList<OnnxTensor> Initializers { get; init; } = [];

    public string DocString { get; init; } = "";

    /// <summary>Graph inputs; in IR &lt; 4 they include the initializers.</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; init; } = [];

    public IReadOnlyList<OnnxValueInfo> Outputs { get; init; } = [];

    /// <summary>Types of intermediate values, when the producer recorded them.</summary>
    public IReadOnlyList<OnnxValueInfo> ValueInfo { get; init; } = [];
}

/// <summary>One operator application (NodeProto).</summary>
public sealed class OnnxNode
{
    /// <summary>Input value names; "" marks an omitted optional input.</summary>
    public IReadOnlyList<string> Inputs { get; init; } = [];

    public IReadOnlyList<string> Outputs { get; init; } = [];

    public string Name { get; init; } = "";

    /// <summary>"Conv", "Relu", ...</summary>
    public string OpType { get; init; } = "";

    /// <summary>"" (or "ai.onnx") for ONNX's own operators.</summary>
    public string Domain { get; init; } = "";

    public IReadOnlyList<OnnxAttribute> Attributes { get; init; } = [];

    public string DocString { get; init; } = "";

    /// <summary>"Conv 'conv1'" or "Conv (output 'y')" when the node has no name: how errors name a node.</summary>
    public string Describe() => Name.Length > 0 ? $"{OpType} node '{Name}'" : $"{OpType} node (output '{Outputs.FirstOrDefault() ?? "?"}')";
}

/// <summary>A node attribute (AttributeProto); only the member its <see cref="Type"/> names is meaningful.</summary>
public sealed class OnnxAttribute
{
    public string Name { get; init; } = "";

    public OnnxAttributeType Type { get; init; }

    public float Float { get; init; }

    public long Int { get; init; }

    /// <summary>Bytes of a STRING attribute (UTF-8 text by convention).</summary>
    public byte[] String { get; init; } = [];

    public OnnxTensor? Tensor { get; init; }

    /// <summary>A GRAPH attribute (control flow bodies); parsed, never executed.</summary>
    public OnnxGraph? Graph { get; init; }

    public float[] Floats { get; init; } = [];

    public long[] Ints { get; init; } = [];

    public byte[][] Strings { get; init; } = [];

    /// <summary>Set inside function bodies only; SharpVision refuses such attributes.</summary>
    public string RefAttributeName { get; init; } = "";

    public string DocString { get; init; } = "";

    /// <summary>The STRING value as text.</summary>
    public string Text => System.Text.Encoding.UTF8.GetString(String);

    public static OnnxAttribute Of(string name, long value) => new() { Name = name, Type = OnnxAttributeType.Int, Int = value };

    public static OnnxAttribute Of(string name, float value) => new() { Name = name, Type = OnnxAttributeType.Float, Float = value };

    public static OnnxAttribute Of(string name, params long[] values) => new() { Name = name, Type = OnnxAttributeType.Ints, Ints = values };

    public static OnnxAttribute Of(string name, string value) =>
        new() { Name = name, Type = OnnxAttributeType.String, String = System.Text.Encoding.UTF8.GetBytes(value) };

    public static OnnxAttribute Of(string name, OnnxTensor value) => new() { Name = name, Type = OnnxAttributeType.Tensor, Tensor = value };
}

/// <summary>A named, typed value of the graph (ValueInfoProto); only tensor types are described further.</summary>
public sealed class OnnxValueInfo
{
    public string Name { get; init; } = "";

    /// <summary>False for sequences, maps and other non-tensor types.</summary>
    public bool IsTensor { get; init; } = true;

    public OnnxDataType ElementType { get; init; }

    /// <summary>The dimensions, or null when the shape is not recorded.</summary>
    public IReadOnlyList<OnnxDimension>? Shape { get; init; }

    public string DocString { get; init; } = "";

    /// <summary>A float tensor with the given dimensions (a name for symbolic ones, e.g. "N").</summary>
    public static OnnxValueInfo FloatTensor(string name, params OnnxDimension[] dims) => new() { Name = name, ElementType = OnnxDataType.Float, Shape = dims };
}

/// <summary>One dimension of a tensor type: a number, a symbolic name, or unknown (both null).</summary>
public readonly record struct OnnxDimension(long? Value, string? Parameter)
{
    public static implicit operator OnnxDimension(long value) => new(value, null);

    public static implicit operator OnnxDimension(string parameter) => new(null, parameter);

    /// <summary>"224", "N" or "?".</summary>
    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Parameter ?? "?";
}

/// <summary>
/// A tensor (TensorProto): name, dimensions, element type and data, from <c>raw_data</c> (little-endian bytes) or a
/// typed field (<c>float_data</c>, <c>int32_data</c>, <c>int64_data</c>, <c>double_data</c>). The parser checks that
/// the data holds exactly the element count the dimensions claim before a tensor exists.
/// </summary>
public sealed class OnnxTensor
{
    public string Name { get; init; } = "";

    public long[] Dims { get; init; } = [];

    public OnnxDataType DataType { get; init; }

    /// <summary>raw_data, or empty when a typed field holds the values.</summary>
    public byte[] RawData { get; init; } = [];

    public float[] FloatData { get; init; } = [];

    /// <summary>int32_data: INT32, INT16, INT8, UINT16, UINT8, BOOL and FLOAT16 (bits) values.</summary>
    public int[] Int32Data { get; init; } = [];

    public long[] Int64Data { get; init; } = [];

    public double[] DoubleData { get; init; } = [];

    public string DocString { get; init; } = "";

    /// <summary>Π dims (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long d in Dims) count *= d;
            return count;
        }
    }

    /// <summary>Bytes per element of the types SharpVision reads as numbers, else 0.</summary>
    public static int ElementSize(OnnxDataType type) => type switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
        OnnxDataType.Int64 or OnnxDataType.Double or OnnxDataType.UInt64 => 8,
        OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Bool => 1,
        OnnxDataType.Int16 or OnnxDataType.UInt16 or OnnxDataType.Float16 or OnnxDataType.BFloat16 => 2,
        _ => 0,
    };

    /// <summary>The values as float32 (FLOAT, DOUBLE, the integer types and BOOL).</summary>
    /// <exception cref="NotSupportedException">Strings, complex or 16-bit float tensors.</exception>
    public float[] ToSingles()
    {
        int n = checked((int)ElementCount);
        if (DataType == OnnxDataType.Float)
        {
            if (RawData.Length == 0) return FloatData.Length == n ? FloatData : throw Mismatch(FloatData.Length);
            var values = new float[n];
            for (int i = 0; i < n; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(RawData.AsSpan(i * 4));
            return values;
        }
        if (DataType == OnnxDataType.Double)
        {
            var doubles = RawData.Length > 0 ? Enumerable.Range(0, n).Select(i => BinaryPrimitives.ReadDoubleLittleEndian(RawData.AsSpan(i * 8))).ToArray() : DoubleData;
            return doubles.Select(d => (float)d).ToArray();
        }
        return ToInt64s().Select(v => (float)v).ToArray();
    }

    /// <summary>The values as int64 (the integer types and BOOL).</summary>
    /// <exception cref="NotSupportedException">Not an integer tensor.</exception>
    public long[] ToInt64s()
    {
        int n = checked((int)ElementCount);
        if (RawData.Length > 0)
        {
            var raw = RawData;
            return DataType switch
            {
                OnnxDataType.Int64 => Read(n, i => BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(i * 8))),
                OnnxDataType.UInt64 => Read(n, i => (long)BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(i * 8))),
                OnnxDataType.Int32 => Read(n, i => BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(i * 4))),
                OnnxDataType.UInt32 => Read(n, i => BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(i * 4))),
                OnnxDataType.Int16 => Read(n, i => BinaryPrimitives.ReadInt16LittleEndian(raw.AsSpan(i * 2))),
                OnnxDataType.UInt16 => Read(n, i => BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(i * 2))),
                OnnxDataType.Int8 => Read(n, i => (sbyte)raw[i]),
                OnnxDataType.UInt8 or OnnxDataType.Bool => Read(n, i => raw[i]),
                _ => throw new NotSupportedException($"tensor '{Name}' of type {DataType} is not an integer tensor"),
            };
        }
        return DataType switch
        {
            OnnxDataType.Int64 => Int64Data.Length == n ? Int64Data : throw Mismatch(Int64Data.Length),
            OnnxDataType.Int32 or OnnxDataType.Int16 or OnnxDataType.UInt16 or OnnxDataType.Int8 or OnnxDataType.UInt8 or OnnxDataType.Bool =>
                Int32Data.Length == n ? Int32Data.Select(v => (long)v).ToArray() : throw Mismatch(Int32Data.Length),
            _ => throw new NotSupportedException($"tensor '{Name}' of type {DataType} is not an integer tensor"),
        };
    }

    private static long[] Read(int n, Func<int, long> at)
    {
        var values = new long[n];
        for (int i = 0; i < n; i++) values[i] = at(i);
        return values;
    }

    private InvalidOperationException Mismatch(int count) => new($"tensor '{Name}' holds {count} values for dims [{string.Join(", ", Dims)}]");

    /// <summary>A FLOAT tensor over <paramref name="values"/> (stored as raw_data when written).</summary>
    /// <exception cref="ArgumentException">The values do not fill the dimensions.</exception>
    public static OnnxTensor FromSingles(string name, float[] values, params long[] dims)
    {
        var tensor = new OnnxTensor { Name = name, Dims = dims, DataType = OnnxDataType.Float, FloatData = values };
        if (tensor.ElementCount != values.Length) throw new ArgumentException($"Tensor '{name}': {values.Length} values for dims [{string.Join(", ", dims)}].", nameof(values));
        return tensor;
    }

    /// <summary>An INT64 tensor over <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">The values do not fill the dimensions.</exception>
    public static OnnxTensor FromInt64s(string name, long[] values, params long[] dims)
    {
        var tensor = new OnnxTensor { Name = name, Dims = dims, DataType = OnnxDataType.Int64, Int64Data = values };
        if (tensor.ElementCount != values.Length) throw new ArgumentException($"Tensor '{name}': {values.Length} values for dims [{string.Join(", ", dims)}].", nameof(values));
        return tensor;
    }
}
