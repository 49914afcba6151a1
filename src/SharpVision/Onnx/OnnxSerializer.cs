// OnnxModel → bytes, the mirror of OnnxParser (field numbers in OnnxMessages.cs). Numeric tensors are written as
// raw_data (little-endian), which every ONNX reader accepts; fields at their proto3 default are left out.
using System.Buffers.Binary;

namespace SharpVision.Onnx;

/// <summary>Serializes <see cref="OnnxModel"/> messages to ONNX protobuf bytes.</summary>
internal static class OnnxSerializer
{
    public static byte[] Model(OnnxModel model)
    {
        var w = new ProtoWriter();
        w.WriteInt64(1, model.IrVersion);
        w.WriteString(2, model.ProducerName);
        w.WriteString(3, model.ProducerVersion);
        w.WriteString(4, model.Domain);
        if (model.ModelVersion != 0) w.WriteInt64(5, model.ModelVersion);
        w.WriteString(6, model.DocString);
        w.WriteMessage(7, g => Graph(g, model.Graph));
        foreach (var set in model.OperatorSets)
            w.WriteMessage(8, o =>
            {
                o.WriteString(1, set.Domain);
                o.WriteInt64(2, set.Version);
            });
        foreach (var (key, value) in model.Metadata)
            w.WriteMessage(14, e =>
            {
                e.WriteString(1, key);
                e.WriteString(2, value);
            });
        return w.WrittenSpan.ToArray();
    }

    private static void Graph(ProtoWriter w, OnnxGraph graph)
    {
        foreach (var node in graph.Nodes) w.WriteMessage(1, n => Node(n, node));
        w.WriteString(2, graph.Name);
        foreach (var tensor in graph.Initializers) w.WriteMessage(5, t => Tensor(t, tensor));
        w.WriteString(10, graph.DocString);
        foreach (var input in graph.Inputs) w.WriteMessage(11, v => ValueInfo(v, input));
        foreach (var output in graph.Outputs) w.WriteMessage(12, v => ValueInfo(v, output));
        foreach (var info in graph.ValueInfo) w.WriteMessage(13, v => ValueInfo(v, info));
    }

    private static void Node(ProtoWriter w, OnnxNode node)
    {
        foreach (var input in node.Inputs) w.WriteBytes(1, System.Text.Encoding.UTF8.GetBytes(input)); // "" is a real (omitted) input
        foreach (var output in node.Outputs) w.WriteBytes(2, System.Text.Encoding.UTF8.GetBytes(output));
        w.WriteString(3, node.Name);
        w.WriteString(4, node.OpType);
        foreach (var attribute in node.Attributes) w.WriteMessage(5, a => Attribute(a, attribute));
        w.WriteString(6, node.DocString);
        w.WriteString(7, node.Domain);
    }

    private static void Attribute(ProtoWriter w, OnnxAttribute a)
    {
        w.WriteString(1, a.Name);
        switch (a.Type)
        {
            case OnnxAttributeType.Float: w.WriteFloat(2, a.Float); break;
            case OnnxAttributeType.Int: w.WriteInt64(3, a.Int); break;
            case OnnxAttributeType.String: w.WriteBytes(4, a.String); break;
            case OnnxAttributeType.Tensor: w.WriteMessage(5, t => Tensor(t, a.Tensor!)); break;
            case OnnxAttributeType.Graph: w.WriteMessage(6, g => Graph(g, a.Graph!)); break;
            case OnnxAttributeType.Floats: w.WritePackedFloat(7, a.Floats); break;
            case OnnxAttributeType.Ints: w.WritePackedInt64(8, a.Ints); break;
            case OnnxAttributeType.Strings: foreach (var s in a.Strings) w.WriteBytes(9, s); break;
            default: throw new NotSupportedException($"Cannot write attribute '{a.Name}' of type {a.Type}.");
        }
        w.WriteString(13, a.DocString);
        w.WriteInt64(20, (long)a.Type);
        w.WriteString(21, a.RefAttributeName);
    }

    private static void Tensor(ProtoWriter w, OnnxTensor t)
    {
        w.WritePackedInt64(1, t.Dims);
        w.WriteInt64(2, (long)t.DataType);
        w.WriteString(8, t.Name);
        w.WriteBytes(9, RawBytes(t));
        w.WriteString(12, t.DocString);
    }

    // The tensor's values as raw_data: its own raw bytes, or its typed field encoded little-endian.
    private static byte[] RawBytes(OnnxTensor t)
    {
        if (t.RawData.Length > 0 || t.ElementCount == 0) return t.RawData;
        int size = OnnxTensor.ElementSize(t.DataType);
        var bytes = new byte[checked(t.ElementCount * size)];
        switch (t.DataType)
        {
            case OnnxDataType.Float:
                for (int i = 0; i < t.FloatData.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), t.FloatData[i]);
                break;
            case OnnxDataType.Double:
                for (int i = 0; i < t.DoubleData.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), t.DoubleData[i]);
                break;
            case OnnxDataType.Int64:
                for (int i = 0; i < t.Int64Data.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), t.Int64Data[i]);
                break;
            case OnnxDataType.Int32:
                for (int i = 0; i < t.Int32Data.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), t.Int32Data[i]);
                break;
            default:
                throw new NotSupportedException($"Cannot write tensor '{t.Name}' of type {t.DataType}.");
        }
        return bytes;
    }

    private static void ValueInfo(ProtoWriter w, OnnxValueInfo v)
    {
        w.WriteString(1, v.Name);
        if (v.IsTensor)
            w.WriteMessage(2, type => type.WriteMessage(1, tensor =>
            {
                tensor.WriteInt64(1, (long)v.ElementType);
                if (v.Shape is { } shape)
                    tensor.WriteMessage(2, s =>
                    {
                        foreach (var d in shape)
                            s.WriteMessage(1, dim =>
                            {
                                if (d.Value is { } value) dim.WriteInt64(1, value);
                                else if (d.Parameter is { } parameter) dim.WriteString(2, parameter);
                            });
                    });
            }));
        w.WriteString(3, v.DocString);
    }
}
