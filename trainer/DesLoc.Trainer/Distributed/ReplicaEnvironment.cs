using System.Globalization;
using DesLoc.Contract.Wire;
using DesLoc.Trainer.Configuration;

namespace DesLoc.Trainer.Distributed;

/// <summary>
/// The contract with the operator (DESIGN.md §5, §6): which worker of which replica this process is, where every
/// worker of the job is (replica-major), the job spec and the
/// job's token and where its TLS files are, all from environment variables. A replica also listens on its gRPC port + 1 for bulk ring data
/// (<c>transport.dataPlane: socket</c>), so the job's Service must expose both ports. The names are the contract's
/// (<see cref="TrainerEnvironment"/>), which the operator sets.
/// </summary>
internal sealed record ReplicaEnvironment(
    string Job,
    int Rank,
    int WorldSize,
    int Worker,
    int WorkersPerReplica,
    IReadOnlyList<string> Peers,
    string ConfigPath,
    string Token,
    int GrpcPort,
    int MetricsPort,
    string BindAddress,
    string? TlsDirectory = null)
{
    public JobTopology Topology => new(WorldSize, WorkersPerReplica);

    /// <summary>This worker's rank among all the job's workers: its index in <see cref="Peers"/>.</summary>
    public int GlobalRank => Topology.GlobalRank(Rank, Worker);

    /// <summary>
    /// The job's TLS material when the spec asks for TLS (the default), read from <see cref="TlsDirectory"/>; null when
    /// the spec turns it off. A job with TLS on and no directory is a configuration error, never a silent fallback to cleartext.
    /// </summary>
    public JobTls? Tls(TransportSpec transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        if (!transport.Tls)
        {
            return null;
        }

        if (TlsDirectory is null)
        {
            throw new ConfigurationException($"transport.tls is on but {TrainerEnvironment.TlsDirectory} is not set: the operator mounts the job's certificates there.");
        }

        try
        {
            return JobTls.Load(TlsDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new ConfigurationException($"Cannot read the job's TLS files in {TrainerEnvironment.TlsDirectory} ({TlsDirectory}): {e.Message}");
        }
    }

    /// <summary>True when the operator (or a test) started this process as one replica of a job.</summary>
    public static bool IsPresent(Func<string, string?> read) => read(TrainerEnvironment.Rank) is not null;

    /// <summary>Reads and checks the contract; every problem is reported at once, naming the variable.</summary>
    public static ReplicaEnvironment Read(Func<string, string?> read)
    {
        var errors = new List<string>();
        string Required(string name)
        {
            string? value = read(name);
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add($"{name} must be set.");
                return "";
            }

            return value;
        }

        int Number(string name, int? fallback)
        {
            string? value = read(name);
            if (string.IsNullOrWhiteSpace(value) && fallback is { } defaultValue)
            {
                return defaultValue;
            }

            if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number) && number >= 0)
            {
                return number;
            }

            errors.Add($"{name} must be a non-negative integer (got '{value}').");
            return 0;
        }

        string job = Required(TrainerEnvironment.Job);
        int rank = Number(TrainerEnvironment.Rank, null);
        int world = Number(TrainerEnvironment.WorldSize, null);
        int worker = Number(TrainerEnvironment.Worker, 0);
        int workers = Number(TrainerEnvironment.WorkersPerReplica, 1);
        string[] peers = Required(TrainerEnvironment.Peers).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string config = Required(TrainerEnvironment.Config);
        string token = Required(TrainerEnvironment.Token);
        int grpcPort = Number(TrainerEnvironment.GrpcPort, TrainerEnvironment.DefaultGrpcPort);
        int metricsPort = Number(TrainerEnvironment.MetricsPort, TrainerEnvironment.DefaultMetricsPort);
        string bind = read(TrainerEnvironment.BindAddress) is { Length: > 0 } address ? address : "0.0.0.0";
        string? tls = read(TrainerEnvironment.TlsDirectory) is { Length: > 0 } directory ? directory : null;
        if (errors.Count == 0 && workers < 1)
        {
            errors.Add($"{TrainerEnvironment.WorkersPerReplica} must be at least 1.");
        }

        if (errors.Count == 0 && peers.Length != world * workers)
        {
            errors.Add($"{TrainerEnvironment.Peers} lists {peers.Length} peers but {TrainerEnvironment.WorldSize} × {TrainerEnvironment.WorkersPerReplica} is {world} × {workers}.");
        }

        if (errors.Count == 0 && worker >= workers)
        {
            errors.Add($"{TrainerEnvironment.Worker} ({worker}) must be below {TrainerEnvironment.WorkersPerReplica} ({workers}).");
        }

        if (errors.Count == 0 && rank >= world)
        {
            errors.Add($"{TrainerEnvironment.Rank} ({rank}) must be below {TrainerEnvironment.WorldSize} ({world}).");
        }

        return errors.Count > 0
            ? throw new ConfigurationException(string.Join(Environment.NewLine, errors))
            : new ReplicaEnvironment(job, rank, world, worker, workers, peers, config, token, grpcPort, metricsPort, bind, tls);
    }
}
