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
/// <c>transport [MiB] [repeats] [output] [streams]</c>: all-reduce of a float32 buffer among 2 and 4 local processes
/// through DesLoc's ring on the socket data plane (TLS off and on, one connection per peer and <c>streams</c>), the
/// same ring over the gRPC link and over raw TCP (the ceiling), and PyTorch gloo (when Debian's python3-torch is
/// installed), all in this run; then one heal: the state of a 10M-parameter model (params and both moments) fetched from a peer.
/// </summary>
internal static class TransportBenchmark
{
    private static readonly CultureInfo s_text = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(string[] args)
    {
        int mib = args.Length > 1 ? int.Parse(args[1], s_text) : 100;
        int repeats = args.Length > 2 ? int.Parse(args[2], s_text) : 5;
        string output = args.Length > 3 ? args[3] : "bench/results/transport.md";
        int streams = args.Length > 4 ? int.Parse(args[4], s_text) : 2;
        bool gloo = GlooAvailable();
        string tlsDirectory = Directory.CreateTempSubdirectory("desloc-bench-tls").FullName;
        JobTlsFiles files = JobTlsFiles.Issue("bench", ["localhost", "127.0.0.1"], DateTimeOffset.UtcNow);
        await File.WriteAllTextAsync(Path.Combine(tlsDirectory, JobTlsFiles.CaFile), files.CaCertificate);
        await File.WriteAllTextAsync(Path.Combine(tlsDirectory, JobTlsFiles.CertificateFile), files.Certificate);
        await File.WriteAllTextAsync(Path.Combine(tlsDirectory, JobTlsFiles.KeyFile), files.PrivateKey);
        (string Name, string[] Arguments)[] rings =
        [
            ("TLS off, 1 stream", ["1"]),
            (string.Create(s_text, $"TLS off, {streams} streams"), [$"{streams}"]),
            ("TLS on, 1 stream", ["1", tlsDirectory]),
            (string.Create(s_text, $"TLS on, {streams} streams"), [$"{streams}", tlsDirectory]),
        ];
        var table = new StringBuilder();
        table.AppendLine(string.Create(s_text, $"All-reduce (mean) of {mib} MiB float32 on loopback; median of {repeats} after a warm-up; each process is a separate OS process. DesLoc's ring on the socket data plane, TLS (the job's mutual TLS) off and on, one TCP connection per peer or {streams}; each ring's ratio to gloo and to raw TCP, measured in this run."));
        table.AppendLine();
        table.AppendLine("| processes | ring | time | throughput | / raw TCP | / gloo |");
        table.AppendLine("|---:|---|---:|---:|---:|---:|");
        foreach (int world in new[] { 2, 4 })
        {
            double tcp = Median(await RunWorkersAsync("tcp", world, mib, repeats, []));
            double? reference = gloo ? Median(await RunGlooAsync(world, mib, repeats)) : null;
            double grpc = Median(await RunWorkersAsync("grpc", world, mib, repeats, []));
            var rows = new List<(string Name, double Seconds)> { ("raw TCP ring (ceiling, cleartext)", tcp) };
            if (reference is { } measured)
            {
                rows.Add(("PyTorch gloo (cleartext)", measured));
            }

            foreach ((string name, string[] arguments) in rings)
            {
                rows.Add(($"DesLoc, socket, {name}", Median(await RunWorkersAsync("socket", world, mib, repeats, arguments))));
            }

            rows.Add(("DesLoc, gRPC link, cleartext", grpc));
            foreach ((string name, double elapsed) in rows)
            {
                string versus = reference is { } g ? string.Create(s_text, $"{elapsed / g:0.00}x") : "n/a";
                string line = string.Create(s_text, $"| {world} | {name} | {elapsed * 1000:0} ms | {mib / elapsed:0} MiB/s | {elapsed / tcp:0.00}x | {versus} |");
                table.AppendLine(line);
                Console.WriteLine(line);
            }
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

        await ResultsFile.WriteAsync(output, "Transport", string.Create(s_text, $"bash bench/transport.sh {mib} {repeats} {streams}"), table.ToString());
        return 0;
    }

    private static async Task<double[]> RunWorkersAsync(string transport, int world, int mib, int repeats, string[] extra)
    {
        int[] ports = [.. Enumerable.Range(0, world).Select(_ => LoopbackPorts.FreePair())];
        string self = typeof(TransportBenchmark).Assembly.Location;
        Process[] workers = [.. Enumerable.Range(0, world).Select(rank => Start("dotnet",
            [self, "allreduce-worker", transport, $"{rank}", $"{world}", string.Join(",", ports), $"{mib}", $"{repeats}", .. extra]))];
        string[] outputs = await Task.WhenAll(workers.Select(w => w.StandardOutput.ReadToEndAsync()));
        await Task.WhenAll(workers.Select(w => w.WaitForExitAsync()));
        return Parse(outputs[0], $"{transport} worker");
    }

    private static async Task<double[]> RunGlooAsync(int world, int mib, int repeats)
    {
        using Process python = Start("/usr/bin/python3", ["bench/gloo_allreduce.py", $"{world}", $"{mib}", $"{repeats}", $"{LoopbackPorts.Free()}"]);
        string output = await python.StandardOutput.ReadToEndAsync();
        await python.WaitForExitAsync();
        return Parse(output, "gloo");
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
