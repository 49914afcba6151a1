using System.IO.Compression;
using System.Text;
using SharpVision.Cli;
using SharpVision.Cli.Commands;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.IO;
using SharpVision.Models;
using SharpVision.Nn;
using SharpVision.Runs;
using SharpVision.Serialization;
using SharpVision.Tensors;
using SharpVision.Training;

namespace SharpVision.Fuzz;

/// <summary>One reader of outside bytes under test.</summary>
/// <param name="Name">What `fuzz/run.sh` and the tests call it.</param>
/// <param name="Description">What it reads, through which public path.</param>
/// <param name="Run">Hands the bytes to the reader (through a file where the reader takes paths).</param>
/// <param name="Seeds">Valid inputs to start from, made in code or read from tests/Fixtures (given its folder).</param>
/// <param name="Unavailable">Why the target cannot run on this machine (an optional native library is missing), or null.</param>
public sealed record FuzzTarget(string Name, string Description, Action<byte[]> Run, Func<string, IReadOnlyList<byte[]>> Seeds, string? Unavailable = null)
{
    /// <summary>The toolkit's own error for bad bytes; anything else escaping a reader is a bug.</summary>
    public bool IsExpected(Exception e) => e is DataFormatException;
}

/// <summary>
/// Every reader SharpVision points at bytes it did not write: model files, checkpoints, images (PNG; JPEG through the
/// managed decoder and libturbojpeg; GIF, BMP, WebP), datasets (IDX raw and gzip, CIFAR), and a run folder's JSON.
/// </summary>
/// <remarks>
/// To add a reader (the ONNX importer, when it lands): add a <see cref="FuzzTarget"/> to <see cref="All"/> whose Run
/// calls the public entry point (e.g. <c>OnnxModel.Load(path)</c>) on a file holding the bytes, and whose Seeds are a
/// few small valid files (made with Debian's python3-onnx by a committed fixture script). The test suite and
/// fuzz/run.sh pick it up by name; nothing else changes.
/// </remarks>
public static class FuzzTargets
{
    /// <summary>Pixels an image target may decode (4 megapixels): keeps one input within the memory bound.</summary>
    public const long MaxPixels = 4_000_000;

    /// <summary>Data bytes an IDX target may read (16 MiB).</summary>
    public const long MaxIdxBytes = 16L << 20;

    private static readonly Lazy<string> Work = new(() =>
    {
        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var dir = Path.Combine(root, $"sharpvision-fuzz-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        return dir;
    });

    /// <summary>A scratch file for this thread (readers that take paths read the input from it).</summary>
    private static string Scratch(string name, byte[] input)
    {
        var path = Path.Combine(Work.Value, $"{name}-{Environment.CurrentManagedThreadId}");
        File.WriteAllBytes(path, input);
        return path;
    }

    /// <summary>The target called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No such target.</exception>
    public static FuzzTarget Find(string name) => All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"Unknown fuzz target '{name}' (known: {string.Join(", ", All.Select(t => t.Name))}).", nameof(name));

    private static IReadOnlyList<byte[]> Fixtures(string fixturesDir, string pattern, string area = "imaging")
    {
        var dir = Path.Combine(fixturesDir, area);
        var files = Directory.Exists(dir) ? Directory.GetFiles(dir, pattern).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList() : [];
        if (files.Count == 0 && pattern == "*.png") files.Add(PngEncoder.Encode(new Image(4, 3, 1, new byte[12])));
        if (files.Count == 0) throw new DirectoryNotFoundException($"{dir}: no {pattern} fixtures to seed from.");
        return files;
    }

    // ---- model files ----

    private static void SafeTensors(byte[] input)
    {
        var path = Scratch("model", input);
        SafeTensorsFile.Read(path);
        ModelFile.Load(path);
    }

    private static ImageDataset Images(int count, int channels, int size, int classes, int seed)
    {
        var pixels = new byte[count * channels * size * size];
        new Random(seed).NextBytes(pixels);
        return new ImageDataset("fuzz", channels, size, size, pixels, Enumerable.Range(0, count).Select(i => i % classes).ToArray(),
            Enumerable.Range(0, classes).Select(c => $"class{c}").ToArray());
    }

    private static byte[] Saved(Action<string> save)
    {
        var path = Path.Combine(Work.Value, $"seed-{Guid.NewGuid():N}.safetensors");
        save(path);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    private static NetworkClassifier Network(string kind, Sequential network, ImageDataset data) =>
        new(kind, network, kind == "svm" ? ClassifierLoss.Hinge : ClassifierLoss.Softmax, Normalizer.Fit(data, kind == "cnn2" ? NormalizationMode.PerChannel : NormalizationMode.PerPixel),
            new ImagePreparation(data.Channels, data.Height, data.Width), data.ClassNames);

    private static IReadOnlyList<byte[]> ModelSeeds()
    {
        var small = Images(12, 1, 4, 3, 1);
        var color = Images(8, 3, 8, 2, 2);
        var mlp = Networks.Mlp(16, [6], 3);
        mlp.ResetParameters(new Rng(1));
        var cnn = Networks.Cnn2(3, 8, 8, 2);
        cnn.ResetParameters(new Rng(2));
        return
        [
            Saved(p => new Classic.KNearestNeighbors(new(1)).Fit(small).Save(p)),
            Saved(p => Network("softmax", Networks.LinearClassifier(16, 3), small).Save(p)),
            Saved(p => Network("mlp", mlp, small).Save(p)),
            Saved(p => Network("cnn2", cnn, color).Save(p)),
        ];
    }

    // ---- checkpoints ----

    private static void CheckpointFile(byte[] input)
    {
        var path = Scratch("checkpoint", input);
        var checkpoint = Checkpoint.Load(path);
        var network = Networks.Mlp(16, [6], 3);
        var parameters = network.NamedParameters();
        Optim.Optimizer optimizer;
        try
        {
            optimizer = OptimizerFactory.Create(checkpoint.Options, parameters.Select(p => p.Parameter).ToList());
        }
        catch (ArgumentException)
        {
            return; // random-search has no optimizer to restore (training refuses to resume it, by design)
        }
        checkpoint.Restore(parameters, optimizer, new Optim.EarlyStopping(OptimizerFactory.Goal(checkpoint.Options), 2), network.NamedBuffers());
        if (checkpoint.Metadata.TryGetValue(ResumeArguments.Key, out var recorded)) ResumeArguments.Recorded(path, recorded);
    }

    private static IReadOnlyList<byte[]> CheckpointSeeds()
    {
        var data = Images(24, 1, 4, 3, 3);
        var seeds = new List<byte[]>();
        foreach (var (optimizer, patience) in new[] { ("adam", 0), ("nesterov", 1) })
        {
            var mlp = Networks.Mlp(16, [6], 3);
            mlp.ResetParameters(new Rng(4));
            var model = Network("mlp", mlp, data);
            var train = new ExampleSet(model.Normalizer.Apply(data, 1), data.Labels, 16);
            var dir = Path.Combine(Work.Value, $"checkpoint-seed-{Guid.NewGuid():N}");
            Directory.CreateDirectory(dir);
            new Trainer(new TrainingOptions(Epochs: 1, BatchSize: 8, Optimizer: optimizer, Patience: patience))
            {
                CheckpointMetadata = new Dictionary<string, string> { [ResumeArguments.Key] = "[\"train\",\"--model\",\"mlp\",\"--hidden\",\"6\",\"--epochs\",\"1\"]" },
            }.Fit(model, train, patience > 0 ? train : null, dir);
            seeds.Add(File.ReadAllBytes(Path.Combine(dir, Checkpoint.FileName)));
            Directory.Delete(dir, recursive: true);
        }
        return seeds;
    }

    // ---- datasets ----

    // Runs every reader on the same file: accepted when one accepts, refused (the last refusal) when all refuse; any
    // other exception escapes at once.
    private static void AnyAccepts(params Action[] readers)
    {
        DataFormatException? refusal = null;
        bool accepted = false;
        foreach (var read in readers)
        {
            try
            {
                read();
                accepted = true;
            }
            catch (DataFormatException e)
            {
                refusal = e;
            }
        }
        if (!accepted && refusal is not null) throw refusal;
    }

    private static void Idx(byte[] input)
    {
        var path = Scratch("idx", input);
        AnyAccepts(() => IdxReader.ReadImages(path, MaxIdxBytes), () => IdxReader.ReadLabels(path, MaxIdxBytes));
    }

    private static IReadOnlyList<byte[]> IdxSeeds(bool gzip)
    {
        byte[] Make(int[] dimensions, int seed)
        {
            var data = new byte[dimensions.Aggregate(1, (a, b) => a * b)];
            new Random(seed).NextBytes(data);
            var path = Path.Combine(Work.Value, $"idx-seed-{Guid.NewGuid():N}");
            IdxReader.Write(path, dimensions, data, gzip);
            var bytes = File.ReadAllBytes(path);
            File.Delete(path);
            return bytes;
        }
        return [Make([3, 4, 5], 1), Make([10], 2), Make([0, 2, 2], 3)];
    }

    private static void Cifar(byte[] input)
    {
        var path = Scratch("cifar", input);
        AnyAccepts(() => CifarReader.ReadBatch(path, CifarVariant.Cifar10, 2), () => CifarReader.ReadBatch(path, CifarVariant.Cifar100, 2), () => CifarReader.ReadNames(path, 10));
    }

    private static IReadOnlyList<byte[]> CifarSeeds()
    {
        byte[] Batch(CifarVariant variant, int seed)
        {
            int record = CifarReader.RecordBytes(variant);
            var bytes = new byte[2 * record];
            new Random(seed).NextBytes(bytes);
            for (int r = 0; r < 2; r++)
            {
                if (variant == CifarVariant.Cifar100) bytes[r * record] = (byte)(r * 7 % 20);
                bytes[r * record + (variant == CifarVariant.Cifar100 ? 1 : 0)] = (byte)(r * 3 % 10);
            }
            return bytes;
        }
        return [Batch(CifarVariant.Cifar10, 1), Batch(CifarVariant.Cifar100, 2), Encoding.UTF8.GetBytes(string.Join("\n", Enumerable.Range(0, 10).Select(i => $"class {i}")) + "\n")];
    }

    // ---- a run folder's JSON ----

    private sealed record RunFolderSet(string Train, string Cv, IImageClassifier Model, ImageDataset Test, IReadOnlyList<byte[]> Seeds);

    private static readonly string[] RunFiles = ["config.json", "metrics.json", "metrics.jsonl", "steps.jsonl"];

    // A softmax train run and a cv run on a tiny IDX dataset, written once by the real command line.
    private static readonly Lazy<RunFolderSet> RunFolders = new(() =>
    {
        var root = Path.Combine(Work.Value, "runs");
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(data);
        var random = new Random(5);
        foreach (var (images, labels, count) in new[] { ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 40), ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10) })
        {
            var pixels = new byte[count * 64];
            random.NextBytes(pixels);
            IdxReader.Write(Path.Combine(data, images), [count, 8, 8], pixels, gzip: false);
            IdxReader.Write(Path.Combine(data, labels), [count], Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray(), gzip: false);
        }
        var train = Path.Combine(root, "train");
        var cv = Path.Combine(root, "cv");
        foreach (var args in new[]
        {
            new[] { "train", "--data", data, "--model", "softmax", "--epochs", "1", "--batch-size", "8", "--threads", "1", "--out", train, "--force" },
            ["cv", "--data", data, "--k", "1,3", "--folds", "2", "--threads", "1", "--out", cv, "--force"],
        })
        {
            int code = CliApp.RunAsync(args, TextWriter.Null, TextWriter.Null).GetAwaiter().GetResult();
            if (code != 0) throw new InvalidOperationException($"could not write the seed run folder ({string.Join(' ', args)}): exit {code}");
        }
        var model = ModelFile.Load(Path.Combine(train, "model.safetensors"));
        var test = DatasetLoader.Load(new DatasetLocator(data).Locate("fashion-mnist")).Test;
        var seeds = RunFiles.Select((file, i) => (byte[])[(byte)i, .. File.ReadAllBytes(Path.Combine(train, file))]).ToList();
        seeds.Add([(byte)RunFiles.Length, .. File.ReadAllBytes(Path.Combine(cv, "metrics.json"))]);
        return new RunFolderSet(train, cv, model, test, seeds);
    });

    private static void RunFolderJson(byte[] input)
    {
        if (input.Length == 0) return;
        var set = RunFolders.Value;
        int choice = input[0] % (RunFiles.Length + 1);
        bool cv = choice == RunFiles.Length;
        var source = cv ? set.Cv : set.Train;
        // A private copy of the run folder with one file replaced by the input.
        var dir = Path.Combine(Work.Value, $"run-{Environment.CurrentManagedThreadId}");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(source).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        File.WriteAllBytes(Path.Combine(dir, cv ? "metrics.json" : RunFiles[choice]), input[1..]);
        RunReports.Load(dir, 1, null, set.Model, set.Test);
    }

    // Last: the targets' seeds use the static fields above.
    /// <summary>The targets, by name.</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("safetensors", "SafeTensorsFile.Read, then ModelFile.Load (k-NN, softmax, MLP, cnn2 files)", SafeTensors, _ => ModelSeeds()),
        new("checkpoint", "Checkpoint.Load, Restore into an MLP, and the recorded cli_arguments check", CheckpointFile, _ => CheckpointSeeds()),
        new("png", "ImageDecoder.Decode on PNG bytes", input => ImageDecoder.Decode(input, "fuzz.png", MaxPixels), dir => Fixtures(dir, "*.png")),
        new("jpeg-managed", "ImageDecoder.Decode on JPEG bytes, managed decoder", input => ImageDecoder.Decode(input, "fuzz.jpg", MaxPixels, JpegDecoderChoice.Managed),
            dir => Fixtures(dir, "*.jpg")),
        new("jpeg-turbo", "ImageDecoder.Decode on JPEG bytes, libturbojpeg", input => ImageDecoder.Decode(input, "fuzz.jpg", MaxPixels, JpegDecoderChoice.TurboJpeg),
            dir => Fixtures(dir, "*.jpg"), TurboJpeg.IsAvailable ? null : "libturbojpeg.so.0 is not installed (Debian: libturbojpeg0)"),
        new("gif", "ImageDecoder.Decode on GIF bytes (managed LZW, first frame)", input => ImageDecoder.Decode(input, "fuzz.gif", MaxPixels),
            dir => Fixtures(dir, "*.gif", "photos")),
        new("bmp", "ImageDecoder.Decode on BMP bytes", input => ImageDecoder.Decode(input, "fuzz.bmp", MaxPixels),
            dir => Fixtures(dir, "*.bmp", "photos")),
        new("webp", "ImageDecoder.Decode on WebP bytes, libwebp", input => ImageDecoder.Decode(input, "fuzz.webp", MaxPixels),
            dir => Fixtures(dir, "*.webp", "photos"), ImageDecoder.WebPAvailable ? null : "libwebp.so.7 is not installed (Debian: libwebp7)"),
        new("jpeg-exif", "ImageDecoder.Decode on JPEGs with EXIF orientation, managed decoder",
            input => ImageDecoder.Decode(input, "fuzz.jpg", MaxPixels, JpegDecoderChoice.Managed), dir => Fixtures(dir, "exif_*.jpg", "photos")),
        new("idx-raw", "IdxReader.ReadImages and ReadLabels on an uncompressed file", Idx, _ => IdxSeeds(gzip: false)),
        new("idx-gzip", "IdxReader.ReadImages and ReadLabels on a gzip file", Idx, _ => IdxSeeds(gzip: true)),
        new("cifar", "CifarReader.ReadBatch (CIFAR-10 and -100 layouts, 2 records) and ReadNames", Cifar, _ => CifarSeeds()),
        new("run-folder", "RunReports.Load on a train run's config.json, metrics.json, metrics.jsonl or steps.jsonl, or a cv run's metrics.json (first byte chooses)",
            RunFolderJson, _ => RunFolders.Value.Seeds),
    ];
}
