using System.Diagnostics;
using SharpVision.IO;

namespace SharpVision.Fuzz;

/// <summary>How one input fared.</summary>
public enum FuzzVerdict
{
    /// <summary>A result.</summary>
    Accepted,
    /// <summary>Refused with the toolkit's own error (<see cref="DataFormatException"/>).</summary>
    Refused,
    /// <summary>Another exception escaped: a bug.</summary>
    Crashed,
    /// <summary>Still running after the time bound: a hang.</summary>
    Hung,
    /// <summary>Allocated more than the memory bound.</summary>
    TooMuchMemory,
}

/// <summary>The verdict, with the exception or measurement behind it.</summary>
public sealed record FuzzOutcome(FuzzVerdict Verdict, Exception? Exception, long AllocatedBytes, TimeSpan Elapsed)
{
    public bool IsBug => Verdict is FuzzVerdict.Crashed or FuzzVerdict.Hung or FuzzVerdict.TooMuchMemory;

    public override string ToString() => Verdict switch
    {
        FuzzVerdict.Crashed => $"crashed: {Exception}",
        FuzzVerdict.Hung => $"hung (still running after {Elapsed.TotalSeconds:F0} s)",
        FuzzVerdict.TooMuchMemory => $"allocated {AllocatedBytes:N0} bytes",
        _ => Verdict.ToString(),
    };
}

/// <summary>
/// The property every reader of outside bytes must have: any input gives a result or a <see cref="DataFormatException"/>,
/// within a time and memory bound; never another exception, never a hang. Also a small mutation engine (AFL's havoc
/// operators plus JSON-aware number swaps) for deterministic runs without a coverage-guided fuzzer.
/// </summary>
public static class FuzzEngine
{
    /// <summary>Time one input may take (generous: the machine is shared).</summary>
    public static readonly TimeSpan TimeBound = TimeSpan.FromSeconds(20);

    /// <summary>Bytes one input may make the reader allocate: 64 MiB plus 64 per input byte.</summary>
    public static long MemoryBound(int inputLength) => (64L << 20) + 64L * inputLength;

    /// <summary>Runs <paramref name="target"/> on <paramref name="input"/> on its own thread and judges it.</summary>
    public static FuzzOutcome Check(FuzzTarget target, byte[] input)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(input);
        long allocated = 0;
        Exception? error = null;
        var clock = Stopwatch.StartNew();
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                target.Run(input);
            }
            catch (Exception e)
            {
                error = e;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, 16 << 20) { IsBackground = true, Name = $"fuzz {target.Name}" };
        thread.Start();
        if (!thread.Join(TimeBound)) return new FuzzOutcome(FuzzVerdict.Hung, null, 0, clock.Elapsed);
        var elapsed = clock.Elapsed;
        if (error is not null && !target.IsExpected(error)) return new FuzzOutcome(FuzzVerdict.Crashed, error, allocated, elapsed);
        if (allocated > MemoryBound(input.Length)) return new FuzzOutcome(FuzzVerdict.TooMuchMemory, error, allocated, elapsed);
        return new FuzzOutcome(error is null ? FuzzVerdict.Accepted : FuzzVerdict.Refused, error, allocated, elapsed);
    }

    private static readonly byte[] InterestingBytes = [0, 1, 0x7F, 0x80, 0xFF, (byte)' ', (byte)'"', (byte)'{', (byte)'}', (byte)'[', (byte)',', (byte)':', (byte)'-', (byte)'9', (byte)'\\'];
    private static readonly long[] InterestingWords = [0, 1, -1, 2, 255, 256, 65535, 65536, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 31, 1L << 32, long.MaxValue, long.MinValue, 100_000_000];
    private static readonly string[] InterestingNumbers = ["-1", "0", "1e309", "-0", "99999999999999999999", "4294967296", "2147483648", "1.5", "null", "\"7\"", "[]", "{}", "true"];

    /// <summary>A mutant of <paramref name="seed"/>: one to eight havoc operations, sometimes a splice with another corpus entry.</summary>
    public static byte[] Mutate(byte[] seed, IReadOnlyList<byte[]> corpus, Random random)
    {
        ArgumentNullException.ThrowIfNull(seed);
        ArgumentNullException.ThrowIfNull(random);
        var data = new List<byte>(seed);
        int operations = 1 + random.Next(random.Next(2) == 0 ? 2 : 8);
        for (int op = 0; op < operations; op++)
        {
            if (data.Count == 0) data.Add((byte)random.Next(256));
            int at = random.Next(data.Count);
            switch (random.Next(11))
            {
                case 0:
                    data[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    data[at] = InterestingBytes[random.Next(InterestingBytes.Length)];
                    break;
                case 2:
                case 3:
                {
                    int width = random.Next(2) == 0 ? 4 : 8;
                    long value = InterestingWords[random.Next(InterestingWords.Length)];
                    if (random.Next(4) == 0) value += random.Next(-16, 17);
                    bool bigEndian = random.Next(2) == 0;
                    for (int i = 0; i < width && at + i < data.Count; i++)
                        data[at + i] = (byte)(value >> (8 * (bigEndian ? width - 1 - i : i)));
                    break;
                }
                case 4:
                    data.RemoveRange(at, Math.Min(data.Count - at, 1 + random.Next(Math.Max(1, data.Count / 4))));
                    break;
                case 5:
                {
                    int length = Math.Min(data.Count - at, 1 + random.Next(Math.Max(1, data.Count / 4)));
                    data.InsertRange(random.Next(data.Count + 1), data.GetRange(at, length));
                    break;
                }
                case 6:
                {
                    var bytes = new byte[1 + random.Next(16)];
                    random.NextBytes(bytes);
                    data.InsertRange(at, bytes);
                    break;
                }
                case 7:
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 8:
                    if (corpus.Count > 0)
                    {
                        var other = corpus[random.Next(corpus.Count)];
                        int from = other.Length == 0 ? 0 : random.Next(other.Length);
                        data.RemoveRange(at, data.Count - at);
                        data.AddRange(other.AsSpan(from).ToArray());
                    }
                    break;
                default:
                    SwapNumber(data, at, random);
                    break;
            }
        }
        return data.ToArray();
    }

    // Replaces the run of ASCII digits at or after `at` with another JSON-ish value (a huge number, a string, null).
    private static void SwapNumber(List<byte> data, int at, Random random)
    {
        int start = at;
        while (start < data.Count && data[start] is < (byte)'0' or > (byte)'9') start++;
        if (start == data.Count) return;
        int end = start;
        while (end < data.Count && data[end] is >= (byte)'0' and <= (byte)'9') end++;
        data.RemoveRange(start, end - start);
        data.InsertRange(start, System.Text.Encoding.ASCII.GetBytes(InterestingNumbers[random.Next(InterestingNumbers.Length)]));
    }

    /// <summary>
    /// A deterministic run: every seed, then <paramref name="mutations"/> mutants (seeded by <paramref name="randomSeed"/>).
    /// Stops at the first bug.
    /// </summary>
    /// <returns>Inputs executed, and the first bug with its input (null when none).</returns>
    public static (int Executed, (byte[] Input, FuzzOutcome Outcome)? Bug) RunDeterministic(FuzzTarget target, IReadOnlyList<byte[]> seeds, int mutations, int randomSeed)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(seeds);
        int executed = 0;
        foreach (var seed in seeds)
        {
            executed++;
            var outcome = Check(target, seed);
            if (outcome.IsBug) return (executed, (seed, outcome));
        }
        var random = new Random(randomSeed);
        for (int i = 0; i < mutations; i++)
        {
            var input = Mutate(seeds[random.Next(seeds.Count)], seeds, random);
            executed++;
            var outcome = Check(target, input);
            if (outcome.IsBug) return (executed, (input, outcome));
        }
        return (executed, null);
    }
}
