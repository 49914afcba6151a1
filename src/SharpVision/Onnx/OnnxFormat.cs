using SharpVision.IO;

namespace SharpVision.Onnx;

/// <summary>
/// Reads and writes ONNX model files (protobuf, the subset of the schema in <see cref="OnnxModel"/>) with a reader of
/// our own: every length is checked against the bytes remaining before anything is allocated, messages nest at most
/// <see cref="MaxNesting"/> deep, a tensor must hold exactly the data its dimensions claim, and the graph must be
/// well formed (every value defined once, every input defined, no cycle) before a model is returned.
/// </summary>
public static class OnnxFormat
{
    /// <summary>Largest file read: protobuf messages are limited to 2 GiB.</summary>
    public const long MaxFileBytes = int.MaxValue;

    /// <summary>Deepest nesting of messages accepted.</summary>
    public const int MaxNesting = OnnxParser.MaxDepth;

    /// <summary>Reads and checks an ONNX file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">Not a well-formed ONNX model; the message names the file and the problem.</exception>
    public static OnnxModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"No such ONNX file: {path}", path);
        if (info.Length > MaxFileBytes) throw new DataFormatException(path, $"{info.Length:N0} bytes is larger than the 2 GiB an ONNX protobuf can hold");
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>
    /// Parses and checks ONNX bytes: the entry point for tools and fuzzers. Any malformed input ends in a
    /// <see cref="DataFormatException"/> naming <paramref name="source"/>; nothing is allocated much beyond the input's size.
    /// </summary>
    /// <exception cref="DataFormatException">Not a well-formed ONNX model.</exception>
    public static OnnxModel Parse(ReadOnlySpan<byte> bytes, string source = "<onnx bytes>")
    {
        if (bytes.Length > MaxFileBytes) throw new DataFormatException(source, "larger than 2 GiB");
        OnnxModel model;
        try
        {
            model = OnnxParser.Model(bytes);
        }
        catch (ProtoFormatException e)
        {
            throw new DataFormatException(source, $"not a valid ONNX model: {e.Message}", e);
        }
        try
        {
            OnnxGraphOrder.Sort(model.Graph);
        }
        catch (InvalidOperationException e)
        {
            throw new DataFormatException(source, e.Message, e);
        }
        return model;
    }

    /// <summary>The model as ONNX protobuf bytes.</summary>
    public static byte[] ToBytes(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return OnnxSerializer.Model(model);
    }

    /// <summary>Writes the model atomically (see <see cref="AtomicFile"/>).</summary>
    public static void Save(string path, OnnxModel model) => AtomicFile.WriteAllBytes(path, ToBytes(model));
}

/// <summary>Checks a graph's structure and orders its nodes so that each runs after the nodes producing its inputs.</summary>
public static class OnnxGraphOrder
{
    /// <summary>The nodes in an order where every input is computed before it is read (Kahn's algorithm, stable).</summary>
    /// <exception cref="InvalidOperationException">A value defined twice, an input nothing defines, or a cycle; the node is named.</exception>
    public static IReadOnlyList<OnnxNode> Sort(OnnxGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var available = new HashSet<string>(StringComparer.Ordinal) { "" }; // "" = an omitted optional input
        foreach (var input in graph.Inputs) available.Add(input.Name);
        foreach (var tensor in graph.Initializers) available.Add(tensor.Name);
        var producer = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            foreach (var output in node.Outputs)
            {
                if (output.Length == 0) continue;
                if (available.Contains(output) || !producer.TryAdd(output, node))
                    throw new InvalidOperationException($"{node.Describe()} defines '{output}', which is already defined (ONNX values are assigned once)");
            }
        foreach (var node in graph.Nodes)
            foreach (var input in node.Inputs)
                if (!available.Contains(input) && !producer.ContainsKey(input))
                    throw new InvalidOperationException($"{node.Describe()} reads '{input}', which no node, graph input or initializer defines");
        foreach (var output in graph.Outputs)
            if (!available.Contains(output.Name) && !producer.ContainsKey(output.Name))
                throw new InvalidOperationException($"graph output '{output.Name}' is not computed by any node");

        // Kahn: a node is ready when all its inputs are available; nodes become ready in file order.
        var waiting = new int[graph.Nodes.Count];
        var readers = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var ready = new PriorityQueue<int, int>();
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            foreach (var input in graph.Nodes[i].Inputs.Distinct())
            {
                if (available.Contains(input)) continue;
                waiting[i]++;
                if (!readers.TryGetValue(input, out var list)) readers[input] = list = [];
                list.Add(i);
            }
            if (waiting[i] == 0) ready.Enqueue(i, i);
        }
        var order = new List<OnnxNode>(graph.Nodes.Count);
        while (ready.TryDequeue(out int i, out _))
        {
            order.Add(graph.Nodes[i]);
            foreach (var output in graph.Nodes[i].Outputs)
                if (readers.TryGetValue(output, out var list))
                    foreach (int reader in list)
                        if (--waiting[reader] == 0) ready.Enqueue(reader, reader);
        }
        if (order.Count < graph.Nodes.Count)
        {
            // Walk from a node that never became ready to the producer of an input it still waits for: the walk
            // must come back to a node it visited, which lies on a cycle.
            var done = order.ToHashSet(ReferenceEqualityComparer.Instance);
            var visited = new HashSet<OnnxNode>(ReferenceEqualityComparer.Instance);
            var node = graph.Nodes.First(n => !done.Contains(n));
            while (visited.Add(node))
                node = node.Inputs.Where(producer.ContainsKey).Select(input => producer[input]).First(p => !done.Contains(p));
            throw new InvalidOperationException($"the graph has a cycle through {node.Describe()} (its inputs depend on its own output)");
        }
        return order;
    }
}
