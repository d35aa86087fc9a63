using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using DesLoc.Contract.Wire;
using DesLoc.Sync.State;
using DesLoc.Operator.Local;
using DesLoc.Transport.Grpc;
using DesLoc.Transport.Membership;
using DesLoc.Transport.Protocol;
using Microsoft.AspNetCore.Builder;

namespace DesLoc.Bench.Transport;

/// <summary>
/// <c>transport [MiB] [repeats] [output] [streams] [wan] [wan-MiB]</c>: all-reduce of a float32 buffer among 2 and 4 local
/// processes through DesLoc's ring on the socket data plane (TLS off and on, one connection per peer and
/// <c>streams</c>), the same ring over the gRPC link and over raw TCP (the ceiling), and PyTorch gloo (when Debian's
/// python3-torch is installed), all in this run; then, when <c>wan</c> describes the link bench/wan.sh put up, the same
/// between its two sites with a <c>wan-MiB</c> buffer (ranks alternate, so every hop of the ring crosses the link); then one heal: the state of a
/// 10M-parameter model (params and both moments) fetched from a peer.
/// </summary>
internal static class TransportBenchmark
{
    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    /// <summary>Where the processes of a run live: loopback, or alternating between bench/wan.sh's two sites.</summary>
    private sealed record Placement(Func<int, string> Address, Func<int, string[]> Prefix, string? GlooInterface)
    {
        public static Placement Loopback { get; } = new(_ => "127.0.0.1", _ => [], null);

        public static Placement Wan { get; } = new(
            rank => rank % 2 == 0 ? "10.232.0.1" : "10.232.0.2",
            rank => ["ip", "netns", "exec", rank % 2 == 0 ? "desloc-site-a" : "desloc-site-b"],
            "wan0");

        public static bool WanPresent() => File.Exists("/run/netns/desloc-site-a") && File.Exists("/run/netns/desloc-site-b");
    }

    public static async Task<int> RunAsync(string[] args)
    {
        int mib = args.Length > 1 ? int.Parse(args[1], s_text) : 100;
        int repeats = args.Length > 2 ? int.Parse(args[2], s_text) : 5;
        string output = args.Length > 3 ? args[3] : "bench/results/transport.md";
        int streams = args.Length > 4 ? int.Parse(args[4], s_text) : 4;   // transport.streams' default
        string? wan = args.Length > 5 ? args[5] : null;
        int wanMib = args.Length > 6 ? int.Parse(args[6], s_text) : 128;
        bool gloo = GlooAvailable();
        string tlsDirectory = Directory.CreateTempSubdirectory("desloc-bench-tls").FullName;
        JobTlsFiles files = JobTlsFiles.Issue("bench", ["localhost", "127.0.0.1", Placement.Wan.Address(0), Placement.Wan.Address(1)], DateTimeOffset.UtcNow);
        await File.WriteAllTextAsync(Path.Combine(tlsDirectory, JobTlsFiles.CaFile), files.CaCertificate);
        await File.WriteAllTextAsync(Path.Combine(tlsDirectory, JobTlsFiles.CertificateFile), files.Certificate);
        await File.WriteAllTextAsync(Path.Combine(tlsDirectory, JobTlsFiles.KeyFile), files.PrivateKey);
        var table = new StringBuilder();
        table.AppendLine(string.Create(s_text, $"All-reduce (mean) of a float32 buffer; median of {repeats} after a warm-up; each process is a separate OS process. DesLoc's ring on the socket data plane, TLS (the job's mutual TLS) off and on, 1 or more TCP connections per peer; each ring's ratio to gloo and to raw TCP, measured in this run."));
        table.AppendLine();
        table.AppendLine(string.Create(s_text, $"On loopback, {mib} MiB:"));
        table.AppendLine();
        double sealing = SealingBytesPerSecond();
        await MeasureAsync(table, Placement.Loopback, mib, repeats, gloo, tlsDirectory, [(1, false), (streams, false), (1, true), (streams, true)], grpc: true, sealing);
        table.AppendLine();
        table.AppendLine(string.Create(s_text, $"TLS floor: the cleartext ring (1 stream) plus sealing and opening every byte each process sends and receives with AES-256-GCM (what TLS 1.3 negotiates here) in 16 KiB records, {sealing / (1 << 30):0.0} GiB/s per core measured in this run, on min(processes, {Environment.ProcessorCount}) cores. gloo encrypts nothing, so with TLS on no ring can match it where the floor is above it."));
        if (wan is not null)
        {
            if (!Placement.WanPresent())
            {
                throw new InvalidOperationException("No emulated link: bench/wan.sh up RATE-MBIT ONE-WAY-MS [MTU] puts one up.");
            }

            table.AppendLine();
            table.AppendLine(string.Create(s_text, $"Between two sites, {wanMib} MiB, over an emulated wide-area link ({wan}; bench/wan.sh, a user-space delay line on TUN devices since this kernel has no netem); ranks alternate between the sites, so every ring hop crosses the link:"));
            table.AppendLine();
            await MeasureAsync(table, Placement.Wan, wanMib, repeats, gloo, tlsDirectory, [(1, false), (2, false), (4, false), (8, false), (1, true), (4, true)], grpc: false, sealing: null);
        }

        if (!gloo)
        {
            table.AppendLine();
            table.AppendLine("PyTorch gloo: not installed (apt-get install python3-torch).");
        }

        Directory.Delete(tlsDirectory, recursive: true);

        (double seconds, long bytes) = await HealAsync(10_000_000, repeats);
        table.AppendLine();
        table.AppendLine(string.Create(s_text,
            $"Heal: fetching a 10M-parameter replica's state (params, m1, m2: {bytes / 1e6:0} MB with its SHA-256) from a peer over gRPC and verifying it: {seconds * 1000:0} ms (median of {repeats})."));

        string command = wan is null ? $"bash bench/transport.sh {mib} {repeats} {streams}" : $"bash bench/transport.sh {mib} {repeats} {streams} {wanMib} (as root: the emulated link too)";
        await ResultsFile.WriteAsync(output, "Transport", command, table.ToString());
        return 0;
    }

    /// <summary>
    /// One table: at 2 and 4 processes, raw TCP, gloo, and DesLoc's ring with each (streams, TLS) given; with a
    /// <paramref name="sealing"/> rate, the TLS floor that rate implies.
    /// </summary>
    private static async Task MeasureAsync(StringBuilder table, Placement placement, int mib, int repeats, bool gloo, string tlsDirectory,
        (int Streams, bool Tls)[] rings, bool grpc, double? sealing)
    {
        table.AppendLine("| processes | ring | time | throughput | / raw TCP | / gloo |");
        table.AppendLine("|---:|---|---:|---:|---:|---:|");
        foreach (int world in new[] { 2, 4 })
        {
            double tcp = Median(await RunWorkersAsync("tcp", world, mib, repeats, [], placement));
            double? reference = gloo ? Median(await RunGlooAsync(world, mib, repeats, placement)) : null;
            var rows = new List<(string Name, double Seconds)> { ("raw TCP ring (ceiling, cleartext)", tcp) };
            if (reference is { } measured)
            {
                rows.Add(("PyTorch gloo (cleartext)", measured));
            }

            foreach ((int streams, bool tls) in rings)
            {
                string name = string.Create(s_text, $"DesLoc, socket, TLS {(tls ? "on" : "off")}, {streams} stream{(streams == 1 ? "" : "s")}");
                string[] arguments = tls ? [$"{streams}", tlsDirectory] : [$"{streams}"];
                rows.Add((name, Median(await RunWorkersAsync("socket", world, mib, repeats, arguments, placement))));
            }

            if (sealing is { } rate)
            {
                // Each process seals what it sends and opens what it receives: 2(W-1)/W of the buffer each way.
                double cipherBytes = world * 2 * 2.0 * (world - 1) / world * mib * (1 << 20);
                double cleartext = rows.First(r => r.Name.StartsWith("DesLoc, socket, TLS off, 1 stream", StringComparison.Ordinal)).Seconds;
                rows.Add(("TLS floor (estimate, see below)", cleartext + cipherBytes / (rate * Math.Min(world, Environment.ProcessorCount))));
            }

            if (grpc)
            {
                rows.Add(("DesLoc, gRPC link, cleartext", Median(await RunWorkersAsync("grpc", world, mib, repeats, [], placement))));
            }

            foreach ((string name, double elapsed) in rows)
            {
                string versus = reference is { } g ? string.Create(s_text, $"{elapsed / g:0.00}x") : "n/a";
                string line = string.Create(s_text, $"| {world} | {name} | {elapsed * 1000:0} ms | {mib / elapsed:0} MiB/s | {elapsed / tcp:0.00}x | {versus} |");
                table.AppendLine(line);
                Console.WriteLine(line);
            }
        }
    }

    private static async Task<double[]> RunWorkersAsync(string transport, int world, int mib, int repeats, string[] extra, Placement placement)
    {
        string endpoints = string.Join(",", Enumerable.Range(0, world).Select(rank => $"{placement.Address(rank)}:{LoopbackPorts.FreePair()}"));
        string self = typeof(TransportBenchmark).Assembly.Location;
        Process[] workers = [.. Enumerable.Range(0, world).Select(rank => StartPlaced(placement, rank,
            ["dotnet", self, "allreduce-worker", transport, $"{rank}", $"{world}", endpoints, $"{mib}", $"{repeats}", .. extra]))];
        string[] outputs = await Task.WhenAll(workers.Select(w => w.StandardOutput.ReadToEndAsync()));
        await Task.WhenAll(workers.Select(w => w.WaitForExitAsync()));
        return Parse(outputs[0], $"{transport} worker");
    }

    private static async Task<double[]> RunGlooAsync(int world, int mib, int repeats, Placement placement)
    {
        string[] common = ["/usr/bin/python3", "bench/gloo_allreduce.py", $"{world}", $"{mib}", $"{repeats}", $"{LoopbackPorts.Free()}"];
        Process[] ranks = placement.GlooInterface is not { } device
            ? [Start(common[0], common[1..])]
            : [.. Enumerable.Range(0, world).Select(rank => StartPlaced(placement, rank,
                ["env", $"GLOO_SOCKET_IFNAME={device}", .. common, $"{rank}", placement.Address(0)]))];
        string[] outputs = await Task.WhenAll(ranks.Select(r => r.StandardOutput.ReadToEndAsync()));
        await Task.WhenAll(ranks.Select(r => r.WaitForExitAsync()));
        return Parse(outputs[0], "gloo");
    }

    /// <summary>AES-256-GCM seal and open of 16 KiB records on one core, bytes per second (the median of 5 passes over 64 MiB).</summary>
    private static double SealingBytesPerSecond()
    {
        const int Record = 16 << 10;
        const int Records = 4096;
        using var aes = new System.Security.Cryptography.AesGcm(new byte[32], tagSizeInBytes: 16);
        byte[] plain = new byte[Record];
        byte[] sealedRecord = new byte[Record];
        byte[] tag = new byte[16];
        byte[] nonce = new byte[12];
        double[] rates = [.. Enumerable.Range(0, 5).Select(_ =>
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < Records; i++)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(nonce, i);
                aes.Encrypt(nonce, plain, sealedRecord, tag);
                aes.Decrypt(nonce, sealedRecord, tag, plain);
            }

            return 2.0 * Records * Record / clock.Elapsed.TotalSeconds;
        })];
        return Median(rates);
    }

    private static Process StartPlaced(Placement placement, int rank, string[] command)
    {
        string[] full = [.. placement.Prefix(rank), .. command];
        return Start(full[0], full[1..]);
    }

    /// <summary>A peer serves a 10M-parameter state; the joiner fetches, checks and parses it, as heal does.</summary>
    private static async Task<(double Seconds, long Bytes)> HealAsync(int parameters, int repeats)
    {
        var bundle = new StateBundle();
        var random = new Random(1);
        foreach (string name in new[] { "replica.params", "replica.m1", "replica.m2" })
        {
            bundle.SetFloats(name, Enumerable.Range(0, parameters).Select(_ => (float)random.NextDouble()).ToArray());
        }

        byte[] state = bundle.ToBytes();
        int port = LoopbackPorts.Free();
        await using WebApplication app = ReplicaServer.CreateBuilder(IPAddress.Loopback, port, "bench", null, new Mailbox(), new Donor(state)).Build();
        ReplicaServer.MapServices(app);
        await app.StartAsync();
        using var peers = new PeerDirectory([$"127.0.0.1:{port}"], "bench", null);
        var membership = new MembershipClient(1, peers, null);
        var seconds = new List<double>();
        for (int i = 0; i <= repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            StateBundle fetched = StateBundle.FromBytes(await membership.FetchStateAsync(0, 1, default));
            double elapsed = clock.Elapsed.TotalSeconds;
            if (fetched.Floats("replica.m2").Length != parameters)
            {
                throw new InvalidOperationException("Heal fetched the wrong state.");
            }

            if (i > 0)
            {
                seconds.Add(elapsed);   // the first fetch warms the connection
            }
        }

        return (Median([.. seconds]), state.LongLength);
    }

    private static Process Start(string file, IEnumerable<string> arguments)
    {
        // Standard error is inherited, so a worker's failure shows in the console.
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, UseShellExecute = false };
        return Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
    }

    private static double[] Parse(string output, string what)
    {
        string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        return line is null
            ? throw new InvalidOperationException($"The {what} printed no result:\n{output}")
            : [.. line["RESULT ".Length..].Split(',').Select(s => double.Parse(s, s_text))];
    }

    private static double Median(double[] values)
    {
        double[] sorted = [.. values.Order()];
        return sorted[sorted.Length / 2];
    }

    private static bool GlooAvailable()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            return false;
        }

        using Process check = Start("/usr/bin/python3", ["-c", "import torch.distributed"]);
        check.WaitForExit();
        return check.ExitCode == 0;
    }

    private sealed class Donor(byte[] state) : IReplicaEndpoint
    {
        public int Rank => 0;

        public long Step => 0;

        public Task<byte[]> SnapshotAsync(CancellationToken cancellationToken) => Task.FromResult(state);

        public StatusReply Status() => new();

        public SetSyncPeriodsReply SetSyncPeriods(SetSyncPeriodsRequest request) => new();
    }
}
