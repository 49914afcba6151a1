// Bytes → OnnxModel (field numbers in OnnxMessages.cs). Every length is checked against the bytes that remain in its
// enclosing message before anything is read or allocated (ProtoReader), messages nest at most MaxDepth deep, and a
// tensor exists only once its data holds exactly the element count its dims claim. Each array allocated here is at
// most as long as the bytes it is decoded from, so parsing never allocates much more than the input's size.
using System.Buffers.Binary;

namespace SharpVision.Onnx;

/// <summary>Parses ONNX protobuf bytes into <see cref="OnnxModel"/> messages.</summary>
internal static class OnnxParser
{
    /// <summary>Deepest nesting of messages accepted (a model's tensors sit at depth 4; each subgraph adds 3).</summary>
    public const int MaxDepth = 64;

    /// <summary>Most elements one tensor may hold (the engine's arrays are indexed by int).</summary>
    public const long MaxElements = int.MaxValue;

    public static OnnxModel Model(ReadOnlySpan<byte> bytes)
    {
        var r = new ProtoReader(bytes);
        long ir = 0, modelVersion = 0;
        string producer = "", producerVersion = "", domain = "", doc = "";
        OnnxGraph? graph = null;
        var opsets = new List<OnnxOperatorSet>();
        var metadata = new List<KeyValuePair<string, string>>();
        while (r.TryReadKey(out int field, out var type))
        {
            switch (field)
            {
                case 1: r.Expect(field, type, WireType.Varint, "ir_version"); ir = r.ReadInt64(); break;
                case 2: producer = String(ref r, field, type, "producer_name"); break;
                case 3: producerVersion = String(ref r, field, type, "producer_version"); break;
                case 4: domain = String(ref r, field, type, "domain"); break;
                case 5: r.Expect(field, type, WireType.Varint, "model_version"); modelVersion = r.ReadInt64(); break;
                case 6: doc = String(ref r, field, type, "doc_string"); break;
                case 7:
                    r.Expect(field, type, WireType.LengthDelimited, "graph");
                    graph = Graph(r.ReadMessage(), 1);
                    break;
                case 8:
                    r.Expect(field, type, WireType.LengthDelimited, "opset_import");
                    opsets.Add(OperatorSet(r.ReadMessage()));
                    break;
                case 14:
                    r.Expect(field, type, WireType.LengthDelimited, "metadata_props");
                    metadata.Add(Entry(r.ReadMessage()));
                    break;
                default: r.Skip(type); break;
            }
        }
        if (graph is null) throw new ProtoFormatException("the model has no graph (is this an ONNX file?)", r.Offset);
        return new OnnxModel
        {
            IrVersion = ir, OperatorSets = opsets, ProducerName = producer, ProducerVersion = producerVersion, Domain = domain,
            ModelVersion = modelVersion, DocString = doc, Graph = graph, Metadata = metadata,
        };
    }

    private static OnnxGraph Graph(ProtoReader r, int depth)
    {
        CheckDepth(depth, r.Offset);
        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxTensor>();
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        var valueInfo = new List<OnnxValueInfo>();
        string name = "", doc = "";
        while (r.TryReadKey(out int field, out var type))
        {
            switch (field)
            {
                case 1: nodes.Add(Node(Nested(ref r, field, type, "node"), depth + 1)); break;
                case 2: name = String(ref r, field, type, "name"); break;
                case 5: initializers.Add(Tensor(Nested(ref r, field, type, "initializer"), depth + 1)); break;
                case 10: doc = String(ref r, field, type, "doc_string"); break;
                case 11: inputs.Add(ValueInfo(Nested(ref r, field, type, "input"), depth + 1)); break;
                case 12: outputs.Add(ValueInfo(Nested(ref r, field, type, "output"), depth + 1)); break;
                case 13: valueInfo.Add(ValueInfo(Nested(ref r, field, type, "value_info"), depth + 1)); break;
                default: r.Skip(type); break;
            }
        }
        return new OnnxGraph { Nodes = nodes, Name = name, Initializers = initializers, DocString = doc, Inputs = inputs, Outputs = outputs, ValueInfo = valueInfo };
    }

    // The reader of a nested message field.
    private static ProtoReader Nested(ref ProtoReader r, int field, WireType type, string name)
    {
        r.Expect(field, type, WireType.LengthDelimited, name);
        return r.ReadMessage();
    }

    private static OnnxNode Node(ProtoReader r, int depth)
    {
        CheckDepth(depth, r.Offset);
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new List<OnnxAttribute>();
        string name = "", op = "", domain = "", doc = "";
        while (r.TryReadKey(out int field, out var type))
        {
            switch (field)
            {
                case 1: inputs.Add(String(ref r, field, type, "input")); break;
                case 2: outputs.Add(String(ref r, field, type, "output")); break;
                case 3: name = String(ref r, field, type, "name"); break;
                case 4: op = String(ref r, field, type, "op_type"); break;
                case 5: attributes.Add(Attribute(Nested(ref r, field, type, "attribute"), depth + 1)); break;
                case 6: doc = String(ref r, field, type, "doc_string"); break;
                case 7: domain = String(ref r, field, type, "domain"); break;
                default: r.Skip(type); break;
            }
        }
        return new OnnxNode { Inputs = inputs, Outputs = outputs, Name = name, OpType = op, Domain = domain, Attributes = attributes, DocString = doc };
    }

    private static OnnxAttribute Attribute(ProtoReader r, int depth)
    {
        CheckDepth(depth, r.Offset);
        string name = "", doc = "", reference = "";
        var type = OnnxAttributeType.Undefined;
        float f = 0;
        long i = 0;
        byte[] s = [];
        OnnxTensor? t = null;
        OnnxGraph? g = null;
        var floats = new List<float>();
        var ints = new List<long>();
        var strings = new List<byte[]>();
        bool hasF = false, hasI = false, hasS = false, hasT = false, hasG = false;
        while (r.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1: name = String(ref r, field, wire, "name"); break;
                case 2: r.Expect(field, wire, WireType.Fixed32, "f"); f = r.ReadFloat(); hasF = true; break;
                case 3: r.Expect(field, wire, WireType.Varint, "i"); i = r.ReadInt64(); hasI = true; break;
                case 4: r.Expect(field, wire, WireType.LengthDelimited, "s"); s = r.ReadBytes(out _).ToArray(); hasS = true; break;
                case 5: t = Tensor(Nested(ref r, field, wire, "t"), depth + 1); hasT = true; break;
                case 6: g = Graph(Nested(ref r, field, wire, "g"), depth + 1); hasG = true; break;
                case 7: ReadFloats(ref r, wire, floats); break;
                case 8: ReadVarints(ref r, wire, ints); break;
                case 9: r.Expect(field, wire, WireType.LengthDelimited, "strings"); strings.Add(r.ReadBytes(out _).ToArray()); break;
                case 13: doc = String(ref r, field, wire, "doc_string"); break;
                case 20: r.Expect(field, wire, WireType.Varint, "type"); type = (OnnxAttributeType)r.ReadInt32(); break;
                case 21: reference = String(ref r, field, wire, "ref_attr_name"); break;
                default: r.Skip(wire); break; // tensors, graphs, sparse tensors, type protos: not used by SharpVision
            }
        }
        // Files from before IR version 3 may omit the type: infer it from the field that is present.
        if (type == OnnxAttributeType.Undefined)
            type = hasF ? OnnxAttributeType.Float : hasI ? OnnxAttributeType.Int : hasS ? OnnxAttributeType.String : hasT ? OnnxAttributeType.Tensor
                : hasG ? OnnxAttributeType.Graph : floats.Count > 0 ? OnnxAttributeType.Floats : ints.Count > 0 ? OnnxAttributeType.Ints
                : strings.Count > 0 ? OnnxAttributeType.Strings : OnnxAttributeType.Undefined;
        return new OnnxAttribute
        {
            Name = name, Type = type, Float = f, Int = i, String = s, Tensor = t, Graph = g, Floats = [.. floats], Ints = [.. ints],
            Strings = [.. strings], DocString = doc, RefAttributeName = reference,
        };
    }

    private static OnnxValueInfo ValueInfo(ProtoReader r, int depth)
    {
        CheckDepth(depth, r.Offset);
        string name = "", doc = "";
        bool isTensor = false;
        var element = OnnxDataType.Undefined;
        List<OnnxDimension>? shape = null;
        while (r.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1: name = String(ref r, field, wire, "name"); break;
                case 2:
                    var typeProto = Nested(ref r, field, wire, "type");
                    CheckDepth(depth + 1, typeProto.Offset);
                    while (typeProto.TryReadKey(out int tf, out var tw))
                    {
                        if (tf != 1)
                        {
                            typeProto.Skip(tw); // sequence, map, optional, sparse: recorded as "not a tensor"
                            continue;
                        }
                        isTensor = true;
                        var tensorType = Nested(ref typeProto, tf, tw, "tensor_type");
                        CheckDepth(depth + 2, tensorType.Offset);
                        while (tensorType.TryReadKey(out int ef, out var ew))
                        {
                            if (ef == 1) { tensorType.Expect(ef, ew, WireType.Varint, "elem_type"); element = (OnnxDataType)tensorType.ReadInt32(); }
                            else if (ef == 2) shape = Shape(Nested(ref tensorType, ef, ew, "shape"), depth + 3);
                            else tensorType.Skip(ew);
                        }
                    }
                    break;
                case 3: doc = String(ref r, field, wire, "doc_string"); break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxValueInfo { Name = name, IsTensor = isTensor, ElementType = element, Shape = shape, DocString = doc };
    }

    private static List<OnnxDimension> Shape(ProtoReader r, int depth)
    {
        CheckDepth(depth, r.Offset);
        var dims = new List<OnnxDimension>();
        while (r.TryReadKey(out int field, out var wire))
        {
            if (field != 1)
            {
                r.Skip(wire);
                continue;
            }
            var d = Nested(ref r, field, wire, "dim");
            long? value = null;
            string? parameter = null;
            while (d.TryReadKey(out int df, out var dw))
            {
                if (df == 1) { d.Expect(df, dw, WireType.Varint, "dim_value"); value = d.ReadInt64(); }
                else if (df == 2) parameter = String(ref d, df, dw, "dim_param");
                else d.Skip(dw);
            }
            dims.Add(new OnnxDimension(value, parameter));
        }
        return dims;
    }

    private static OnnxTensor Tensor(ProtoReader r, int depth)
    {
        CheckDepth(depth, r.Offset);
        long start = r.Offset;
        var dims = new List<long>();
        var type = OnnxDataType.Undefined;
        string name = "", doc = "";
        byte[] raw = [];
        bool hasRaw = false, external = false;
        var floats = new List<float>();
        var int32s = new List<long>();
        var int64s = new List<long>();
        var doubles = new List<double>();
        while (r.TryReadKey(out int field, out var wire))
        {
            switch (field)
            {
                case 1: ReadVarints(ref r, wire, dims); break;
                case 2: r.Expect(field, wire, WireType.Varint, "data_type"); type = (OnnxDataType)r.ReadInt32(); break;
                case 4: ReadFloats(ref r, wire, floats); break;
                case 5: ReadVarints(ref r, wire, int32s); break;
                case 7: ReadVarints(ref r, wire, int64s); break;
                case 8: name = String(ref r, field, wire, "name"); break;
                case 9: r.Expect(field, wire, WireType.LengthDelimited, "raw_data"); raw = r.ReadBytes(out _).ToArray(); hasRaw = true; break;
                case 10: ReadDoubles(ref r, wire, doubles); break;
                case 12: doc = String(ref r, field, wire, "doc_string"); break;
                case 14: r.Expect(field, wire, WireType.Varint, "data_location"); external = r.ReadInt64() == 1; break;
                default: r.Skip(wire); break; // segment, string_data, uint64_data, external_data
            }
        }
        string label = name.Length > 0 ? $"tensor '{name}'" : "an unnamed tensor";
        if (external) throw new ProtoFormatException($"{label} keeps its data in an external file, which SharpVision does not read", start);
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0) throw new ProtoFormatException($"{label} has a negative dimension in [{string.Join(", ", dims)}]", start);
            count = d == 0 ? 0 : count > MaxElements / d ? MaxElements + 1 : count * d;
        }
        int size = OnnxTensor.ElementSize(type);
        if (count > MaxElements)
            throw new ProtoFormatException($"{label} claims dims [{string.Join(", ", dims)}], more than {MaxElements:N0} elements; refused", start);
        long held = hasRaw ? (size == 0 ? -1 : raw.LongLength / size) : type switch
        {
            OnnxDataType.Float => floats.Count,
            OnnxDataType.Double => doubles.Count,
            OnnxDataType.Int64 => int64s.Count,
            OnnxDataType.UInt64 or OnnxDataType.UInt32 => int64s.Count, // uint64_data is skipped: count stays 0 unless raw
            _ => int32s.Count,
        };
        if (size == 0) throw new ProtoFormatException($"{label} has element type {type}, which SharpVision does not read", start);
        if (hasRaw && raw.Length % size != 0 || held != count)
        {
            long bytes = hasRaw ? raw.LongLength : held * size;
            throw new ProtoFormatException(
                $"{label} claims dims [{string.Join(", ", dims)}] of {type} ({count:N0} elements, {count * size:N0} bytes) but holds {bytes:N0} bytes of data", start);
        }
        return new OnnxTensor
        {
            Name = name, Dims = [.. dims], DataType = type, RawData = raw, FloatData = [.. floats], Int32Data = int32s.Select(v => (int)v).ToArray(),
            Int64Data = [.. int64s], DoubleData = [.. doubles], DocString = doc,
        };
    }

    private static OnnxOperatorSet OperatorSet(ProtoReader r)
    {
        string domain = "";
        long version = 0;
        while (r.TryReadKey(out int field, out var wire))
        {
            if (field == 1) domain = String(ref r, field, wire, "domain");
            else if (field == 2) { r.Expect(field, wire, WireType.Varint, "version"); version = r.ReadInt64(); }
            else r.Skip(wire);
        }
        return new OnnxOperatorSet(domain, version);
    }

    private static KeyValuePair<string, string> Entry(ProtoReader r)
    {
        string key = "", value = "";
        while (r.TryReadKey(out int field, out var wire))
        {
            if (field == 1) key = String(ref r, field, wire, "key");
            else if (field == 2) value = String(ref r, field, wire, "value");
            else r.Skip(wire);
        }
        return new(key, value);
    }

    private static string String(ref ProtoReader r, int field, WireType wire, string name)
    {
        r.Expect(field, wire, WireType.LengthDelimited, name);
        return r.ReadString();
    }

    // A repeated varint field, packed (one length-delimited run) or not (one value per key).
    private static void ReadVarints(ref ProtoReader r, WireType wire, List<long> into)
    {
        if (wire == WireType.Varint)
        {
            into.Add(r.ReadInt64());
            return;
        }
        r.Expect(0, wire, WireType.LengthDelimited, "packed varints");
        var packed = r.ReadMessage();
        while (!packed.AtEnd) into.Add(packed.ReadInt64()); // a packed run is values without keys
    }

    private static void ReadFloats(ref ProtoReader r, WireType wire, List<float> into)
    {
        if (wire == WireType.Fixed32)
        {
            into.Add(r.ReadFloat());
            return;
        }
        r.Expect(0, wire, WireType.LengthDelimited, "packed floats");
        var bytes = r.ReadBytes(out long at);
        if (bytes.Length % 4 != 0) throw new ProtoFormatException($"packed floats of {bytes.Length} bytes (not a multiple of 4)", at);
        into.Capacity = checked(into.Count + bytes.Length / 4);
        for (int i = 0; i < bytes.Length; i += 4) into.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes[i..]));
    }

    private static void ReadDoubles(ref ProtoReader r, WireType wire, List<double> into)
    {
        if (wire == WireType.Fixed64)
        {
            into.Add(BitConverter.UInt64BitsToDouble(r.ReadFixed64()));
            return;
        }
        r.Expect(0, wire, WireType.LengthDelimited, "packed doubles");
        var bytes = r.ReadBytes(out long at);
        if (bytes.Length % 8 != 0) throw new ProtoFormatException($"packed doubles of {bytes.Length} bytes (not a multiple of 8)", at);
        for (int i = 0; i < bytes.Length; i += 8) into.Add(BinaryPrimitives.ReadDoubleLittleEndian(bytes[i..]));
    }

    private static void CheckDepth(int depth, long offset)
    {
        if (depth > MaxDepth) throw new ProtoFormatException($"messages nest deeper than {MaxDepth} levels (subgraphs within subgraphs); refused", offset);
    }
}
