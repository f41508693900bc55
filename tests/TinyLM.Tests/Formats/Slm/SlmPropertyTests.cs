using System.Diagnostics;
using TinyLM.Formats;
using TinyLM.Formats.Slm;
using TinyLM.Generation;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Sampling;
using Xunit.Abstractions;
using static TinyLM.Tests.Formats.Slm.SlmTestFiles;

namespace TinyLM.Tests.Formats.Slm;

/// <summary>
/// Seeded random mutations of a valid .slm file — bit flips, truncations, insertions, hostile field
/// values, section edits, half of them with every checksum recomputed so that they reach the deeper
/// checks — give either a <see cref="ModelAdmissionException"/> or an admitted model that runs.
/// </summary>
/// <remarks>Runs alone (no parallel test classes) so that its time limit measures this test only.</remarks>
[Collection(nameof(SlmPropertyTests))]
public class SlmPropertyTests(ITestOutputHelper output)
{
    private const int Iterations = 4000;

    [Fact]
    public void RandomMutations_GiveTypedRefusalOrValidLoad()
    {
        byte[] valid = TinySlm(GgmlType.Q4_0);
        var rng = new XorShiftRandom(20240601);
        var errors = new Dictionary<AdmissionError, int>();
        int admitted = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        for (int i = 0; i < Iterations; i++)
        {
            byte[] bytes = Mutate(valid, rng, out string description);
            try
            {
                using SlmFile f = SlmFile.Load(bytes, "mutant.slm");
                using SlmModelFile file = f.Admit();
                using Model m = Model.Load(file, ownsFile: false);
                using InferenceSession s = m.CreateSession(new SessionOptions { ContextLength = 8, Threads = 1 });
                Assert.Equal(2 * m.VocabularySize, s.EvaluateAll([1, 2]).Length);
                admitted++;
            }
            catch (ModelAdmissionException e)
            {
                errors[e.Error] = errors.GetValueOrDefault(e.Error) + 1;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i} ({description}) threw {e.GetType().Name}: {e.Message}");
            }
        }
        clock.Stop();
        // CPU time, not wall time: a loaded machine (shared cores) must not fail the test; the class runs alone.
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuStart;
        output.WriteLine($"{Iterations} mutations in {clock.ElapsedMilliseconds} ms ({cpu.TotalMilliseconds:0} ms CPU): {admitted} admitted; " +
            string.Join(", ", errors.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.True(errors.Count >= 15, $"only {errors.Count} distinct error states reached");
        Assert.True(cpu < TimeSpan.FromSeconds(5), $"took {cpu.TotalSeconds:0.0} s of CPU");
    }

    private static byte[] Mutate(byte[] valid, XorShiftRandom rng, out string description)
    {
        int Next(int n) => (int)(rng.NextUInt32() % (uint)n);
        byte[] b = (byte[])valid.Clone();
        bool reseal = Next(2) == 0;
        int kind = Next(6);
        switch (kind)
        {
            case 0: // bit flips anywhere
            {
                int flips = 1 + Next(4);
                for (int k = 0; k < flips; k++)
                    b[Next(b.Length)] ^= (byte)(1 << Next(8));
                description = $"{flips} bit flips";
                break;
            }
            case 1: // truncation
            {
                int n = Next(b.Length);
                b = b[..n];
                description = $"truncated to {n}";
                break;
            }
            case 2: // insertion
            {
                int at = Next(b.Length + 1), n = 1 + Next(16);
                var extra = new byte[n];
                for (int k = 0; k < n; k++)
                    extra[k] = (byte)Next(256);
                b = [.. b.AsSpan(0, at), .. extra, .. b.AsSpan(at)];
                description = $"{n} bytes inserted at {at}";
                break;
            }
            case 3: // a header or directory field set to a boundary value
            {
                int region = (int)SlmTestFiles.DirectoryOffset(b) + SlmTestFiles.TensorCount(b) * 128;
                int at = Next(region / 4) * 4;
                ulong[] values = [0, 1, 2, 3, 7, 8, 31, 32, 63, 64, 255, 256, (ulong)b.Length, (ulong)b.Length - 64, uint.MaxValue, ulong.MaxValue, 1UL << 31, 1UL << 62];
                ulong v = values[Next(values.Length)];
                if (Next(2) == 0)
                    SetU32(b, at, (uint)v);
                else if (at + 8 <= b.Length)
                    SetU64(b, at, v);
                description = $"field at {at} = {v}";
                break;
            }
            case 4: // bytes of the tokenizer or metadata section
            {
                int start = (int)U64(b, SlmHeader.TokenizerOffsetAt);
                int end = (int)(U64(b, SlmHeader.MetadataOffsetAt) + U64(b, SlmHeader.MetadataLengthAt));
                int at = start + Next(end - start);
                b[at] = (byte)Next(256);
                description = $"section byte {at}";
                break;
            }
            default: // a payload byte (finite check, checksums)
            {
                int start = (int)U64(b, SlmHeader.DataOffsetAt);
                int at = start + Next(b.Length - start);
                b[at] = (byte)Next(256);
                description = $"payload byte {at}";
                break;
            }
        }
        if (reseal)
        {
            Reseal(b);
            description += ", resealed";
        }
        return b;
    }
}

/// <summary>Keeps <see cref="SlmPropertyTests"/> from running beside other test classes.</summary>
[CollectionDefinition(nameof(SlmPropertyTests), DisableParallelization = true)]
public class SlmPropertyTestsCollection;
