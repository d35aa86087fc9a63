using System.Globalization;
using DesLoc.Contract.Wire;
using DesLoc.Trainer.Configuration;

namespace DesLoc.Trainer.Distributed;

/// <summary>
/// The contract with the operator (DESIGN.md §5): who this replica is, where its peers are, the job spec and the
/// job's token, all from environment variables. A replica also listens on its gRPC port + 1 for bulk ring data
/// (<c>transport.dataPlane: socket</c>), so the job's Service must expose both ports. The names are the contract's
/// (<see cref="TrainerEnvironment"/>), which the operator sets.
/// </summary>
internal sealed record ReplicaEnvironment(
    string Job,
    int Rank,
    int WorldSize,
    IReadOnlyList<string> Peers,
    string ConfigPath,
    string Token,
    int GrpcPort,
    int MetricsPort,
    string BindAddress)
{
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
        string[] peers = Required(TrainerEnvironment.Peers).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string config = Required(TrainerEnvironment.Config);
        string token = Required(TrainerEnvironment.Token);
        int grpcPort = Number(TrainerEnvironment.GrpcPort, TrainerEnvironment.DefaultGrpcPort);
        int metricsPort = Number(TrainerEnvironment.MetricsPort, TrainerEnvironment.DefaultMetricsPort);
        string bind = read(TrainerEnvironment.BindAddress) is { Length: > 0 } address ? address : "0.0.0.0";
        if (errors.Count == 0 && peers.Length != world)
        {
            errors.Add($"{TrainerEnvironment.Peers} lists {peers.Length} peers but {TrainerEnvironment.WorldSize} is {world}.");
        }

        if (errors.Count == 0 && rank >= world)
        {
            errors.Add($"{TrainerEnvironment.Rank} ({rank}) must be below {TrainerEnvironment.WorldSize} ({world}).");
        }

        return errors.Count > 0
            ? throw new ConfigurationException(string.Join(Environment.NewLine, errors))
            : new ReplicaEnvironment(job, rank, world, peers, config, token, grpcPort, metricsPort, bind);
    }
}
