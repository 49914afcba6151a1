using Microsoft.ML.OnnxRuntime;
using SharpVision.IO;
using SharpVision.Onnx;

namespace SharpVision.Tests.Onnx;

/// <summary>
/// The ONNX reader and writer: round trips, and hostile files (truncated, a claimed 10 GB initializer, a cycle, absurd
/// nesting, an unknown operator), each a <see cref="DataFormatException"/> naming the file, with no allocation beyond
/// a small multiple of the file's size.
/// </summary>
public class OnnxFormatTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx", name);

    // Parses (and imports) the bytes, asserting the error names the file and how much was allocated meanwhile.
    private static DataFormatException Refused(byte[] bytes, string expected, bool import = false)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() =>
        {
            if (import) OnnxNetwork.Parse(bytes, "hostile.onnx");
            else OnnxFormat.Parse(bytes, "hostile.onnx");
        });
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith("hostile.onnx: ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.True(allocated < 64 * 1024 + 8L * bytes.Length, $"parsing {bytes.Length} bytes allocated {allocated:N0} bytes");
        return e;
    }

    [Fact]
    public void RoundTrip_TorchExport_ReparsesIdenticallyAndRunsInOnnxRuntime()
    {
        var original = File.ReadAllBytes(Fixture("zoo_opset13.onnx"));
        var model = OnnxFormat.Parse(original, "zoo_opset13.onnx");
        var bytes = OnnxFormat.ToBytes(model);
        var again = OnnxFormat.Parse(bytes);
        Assert.Equal(bytes, OnnxFormat.ToBytes(again)); // our writer is a fixed point
        Assert.Equal(model.Graph.Nodes.Select(n => (n.OpType, string.Join(",", n.Inputs), string.Join(",", n.Outputs))),
            again.Graph.Nodes.Select(n => (n.OpType, string.Join(",", n.Inputs), string.Join(",", n.Outputs))));
        Assert.Equal(model.Graph.Initializers.Select(t => t.ToSingles()), again.Graph.Initializers.Select(t => t.ToSingles()));
        using var session = new InferenceSession(bytes); // ONNX Runtime reads what we wrote
        Assert.Equal("probabilities", session.OutputMetadata.Keys.Single());
    }

    [Fact]
    public void Truncated_AtEveryFewBytes_IsRefusedWithTheFileName()
    {
        var bytes = File.ReadAllBytes(Fixture("zoo_opset9.onnx"));
        int refused = 0;
        for (int length = 0; length < bytes.Length; length += 97)
        {
            var cut = bytes[..length];
            var e = Assert.Throws<DataFormatException>(() => OnnxFormat.Parse(cut, "cut.onnx"));
            Assert.StartsWith("cut.onnx: ", e.Message);
            refused++;
        }
        Assert.True(refused > 100);
        Refused(bytes[..(bytes.Length / 2)], "truncated");
    }

    [Fact]
    public void ClaimedTenGigabyteInitializer_IsRefusedBeforeAllocating()
    {
        // dims claim 2,684,354,560 floats (10 GiB); the data is 16 bytes.
        var model = WithInitializer(new OnnxTensor { Name = "huge", Dims = [2_684_354_560L], DataType = OnnxDataType.Float, RawData = new byte[16] });
        Refused(OnnxFormat.ToBytes(model), "tensor 'huge' claims dims [2684354560]");
        // dims that fit but more than the data holds: 1 GiB claimed, 16 bytes present.
        model = WithInitializer(new OnnxTensor { Name = "big", Dims = [16384, 16384], DataType = OnnxDataType.Float, RawData = new byte[16] });
        Refused(OnnxFormat.ToBytes(model), "holds 16 bytes of data");
        // a raw_data field whose length prefix claims 10 GiB: tensor { name: "x" (field 8), raw_data (field 9): length 10 GiB }
        byte[] tensor = [0x42, 0x01, (byte)'x', 0x4A, .. Varint(10L << 30)];
        byte[] graph = [0x2A, .. Varint(tensor.Length), .. tensor];
        Refused([0x08, 0x07, 0x3A, .. Varint(graph.Length), .. graph], "claims 10,737,418,240 bytes");
    }

    [Fact]
    public void Cycle_IsRefusedNamingANodeOnIt()
    {
        var model = new OnnxModel
        {
            IrVersion = 7, OperatorSets = [new OnnxOperatorSet("", 13)],
            Graph = new OnnxGraph
            {
                Nodes =
                [
                    new OnnxNode { OpType = "Add", Name = "a", Inputs = ["x", "c"], Outputs = ["b"] },
                    new OnnxNode { OpType = "Relu", Name = "r", Inputs = ["b"], Outputs = ["c"] },
                    new OnnxNode { OpType = "Relu", Name = "out", Inputs = ["b"], Outputs = ["y"] },
                ],
                Inputs = [OnnxValueInfo.FloatTensor("x", 1, 4)], Outputs = [OnnxValueInfo.FloatTensor("y")],
            },
        };
        var e = Refused(OnnxFormat.ToBytes(model), "the graph has a cycle through");
        Assert.Matches("(Add node 'a'|Relu node 'r')", e.Message);
    }

    [Fact]
    public void AbsurdNesting_IsRefused()
    {
        // Each level: a node whose graph attribute holds the next graph (If/Loop bodies nest like this).
        var graph = new OnnxGraph { Nodes = [], Inputs = [], Outputs = [] };
        for (int level = 0; level < 200; level++)
            graph = new OnnxGraph { Nodes = [new OnnxNode { OpType = "If", Outputs = [$"v{level}"], Attributes = [new OnnxAttribute { Name = "then_branch", Type = OnnxAttributeType.Graph, Graph = graph }] }] };
        var model = new OnnxModel { IrVersion = 7, OperatorSets = [new OnnxOperatorSet("", 13)], Graph = graph };
        Refused(OnnxFormat.ToBytes(model), $"nest deeper than {OnnxFormat.MaxNesting} levels");
    }

    [Fact]
    public void UnknownOperator_IsRefusedNamingNodeAndOperator()
    {
        var bytes = OnnxFormat.ToBytes(OnnxModels.Single("NonMaxSuppression", "nms"));
        Refused(bytes, "NonMaxSuppression node 'nms': operator 'NonMaxSuppression' is not supported", import: true);
    }

    [Fact]
    public void MalformedGraphs_AreRefused()
    {
        var undefined = OnnxModels.Single("Relu", "r");
        undefined = new OnnxModel { IrVersion = 7, OperatorSets = undefined.OperatorSets, Graph = new OnnxGraph
        {
            Nodes = [new OnnxNode { OpType = "Relu", Name = "r", Inputs = ["nowhere"], Outputs = ["y"] }],
            Inputs = undefined.Graph.Inputs, Outputs = undefined.Graph.Outputs,
        } };
        Refused(OnnxFormat.ToBytes(undefined), "Relu node 'r' reads 'nowhere'");
        var twice = new OnnxModel { IrVersion = 7, OperatorSets = undefined.OperatorSets, Graph = new OnnxGraph
        {
            Nodes = [new OnnxNode { OpType = "Relu", Name = "r1", Inputs = ["x"], Outputs = ["y"] }, new OnnxNode { OpType = "Relu", Name = "r2", Inputs = ["x"], Outputs = ["y"] }],
            Inputs = undefined.Graph.Inputs, Outputs = undefined.Graph.Outputs,
        } };
        Refused(OnnxFormat.ToBytes(twice), "defines 'y', which is already defined");
        Refused("\x89PNG\r\n\x1a\n not an onnx file at all"u8.ToArray(), "not a valid ONNX model");
        Refused([], "has no graph");
    }

    [Fact]
    public void Load_MissingFile_IsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => OnnxFormat.Load(Path.Combine(Path.GetTempPath(), "no-such-model.onnx")));
    }

    private static OnnxModel WithInitializer(OnnxTensor tensor) => new()
    {
        IrVersion = 7, OperatorSets = [new OnnxOperatorSet("", 13)],
        Graph = new OnnxGraph
        {
            Nodes = [new OnnxNode { OpType = "Add", Name = "add", Inputs = ["x", tensor.Name], Outputs = ["y"] }],
            Initializers = [tensor], Inputs = [OnnxValueInfo.FloatTensor("x", 4)], Outputs = [OnnxValueInfo.FloatTensor("y")],
        },
    };

    private static byte[] Varint(long value)
    {
        var bytes = new List<byte>();
        ulong v = (ulong)value;
        while (v >= 0x80)
        {
            bytes.Add((byte)(v | 0x80));
            v >>= 7;
        }
        bytes.Add((byte)v);
        return [.. bytes];
    }
}
