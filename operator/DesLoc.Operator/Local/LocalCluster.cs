using DesLoc.Contract.Wire;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Controllers;
using DesLoc.Operator.Reconciliation;
using DesLoc.Operator.Trainers;
using k8s.Models;

namespace DesLoc.Operator.Local;

/// <summary>
/// The local backend: a one-job "cluster" whose pods are trainer processes on this machine (one per worker). A pod's phase follows its
/// process (Running while it runs, then Succeeded or Failed with its exit code), its environment is the pod's own,
/// with the Secret's token resolved, and deleting a pod stops its process the way the kubelet does (SIGTERM, then
/// SIGKILL after the grace period).
/// </summary>
public sealed partial class LocalCluster(
    LowCommJob job, TrainerCommand trainer, string runDirectory, string workingDirectory, Func<int, IReadOnlyList<string>>? prefix = null)
    : IJobBackend, IAsyncDisposable
{
    private static readonly TimeSpan s_gracePeriod = TimeSpan.FromSeconds(30);
    private readonly object _lock = new();
    private readonly Dictionary<string, LocalPod> _pods = [];
    private readonly List<JobEvent> _events = [];
    private readonly SemaphoreSlim _changed = new(0);
    private V1Secret? _secret;
    private bool _service;

    private sealed class LocalPod(V1Pod pod, Process process)
    {
        public V1Pod Pod { get; } = pod;

        public Process Process { get; } = process;

        public Task Exited { get; set; } = Task.CompletedTask;
    }

    public LowCommJob Job { get; private set; } = job;

    public bool JobDeleted { get; private set; }

    /// <summary>Raised for every Event the reconciler records (the progress display prints them).</summary>
    public event Action<JobEvent>? EventRecorded;

    public IReadOnlyList<JobEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>The job's token and TLS material, once its Secret exists.</summary>
    public JobCredentials? Credentials => JobCredentials.FromSecret(_secret);

    /// <summary>
    /// Process ids of the workers that are running now, by global rank (replica-major: with one worker per replica,
    /// the replica index); tests kill them.
    /// </summary>
    public IReadOnlyDictionary<int, int> RunningProcesses()
    {
        lock (_lock)
        {
            return _pods.Values.Where(p => !p.Process.HasExited && p.Pod.Metadata.DeletionTimestamp is null)
                .ToDictionary(p => GlobalRank(p.Pod), p => p.Process.Id);
        }
    }

    private int GlobalRank(V1Pod pod) =>
        ObservedWorker.From(pod) is { } worker
            ? new JobTopology(Job.Spec.Replicas, Job.Spec.WorkersPerReplica).GlobalRank(worker.Replica, worker.Worker)
            : throw new InvalidOperationException($"Pod {pod.Metadata.Name} has no replica label.");

    public bool AnyProcessRunning()
    {
        lock (_lock)
        {
            return _pods.Values.Any(p => !p.Process.HasExited);
        }
    }

    public JobObservation Observe(DateTime now, TrainerReport? report)
    {
        lock (_lock)
        {
            // Loopback has no network policies: there is none to create.
            return new JobObservation(Job, [.. _pods.Values.Select(p => p.Pod)], _service, _secret is not null, report, now, HasNetworkPolicy: true);
        }
    }

    /// <summary>Waits until a process exits or a pod goes away, or the timeout passes.</summary>
    public Task WaitForChangeAsync(TimeSpan timeout, CancellationToken cancellation) => _changed.WaitAsync(timeout, cancellation);

    public Task CreateServiceAsync(V1Service service, CancellationToken cancellation)
    {
        _service = true; // loopback needs no Service: the peers' addresses are in DESLOC_PEERS
        return Task.CompletedTask;
    }

    public Task CreateSecretAsync(V1Secret secret, CancellationToken cancellation)
    {
        _secret = secret;
        return Task.CompletedTask;
    }

    public Task CreateNetworkPolicyAsync(V1NetworkPolicy policy, CancellationToken cancellation) => Task.CompletedTask;

    public Task ReplaceNetworkPolicyAsync(V1NetworkPolicy current, V1NetworkPolicySpec spec, CancellationToken cancellation) => Task.CompletedTask;

    public Task CreatePodAsync(V1Pod pod, CancellationToken cancellation)
    {
        lock (_lock)
        {
            if (_pods.ContainsKey(pod.Metadata.Name))
            {
                return Task.CompletedTask;
            }

            V1Container container = pod.Spec.Containers.First(c => c.Name == JobNames.TrainerContainer);
            // A replica's workers run where the replica does (its network namespace, in the slow-link benchmark).
            int replica = int.Parse(pod.Metadata.Labels[JobNames.ReplicaLabel], System.Globalization.CultureInfo.InvariantCulture);
            IReadOnlyList<string> words = [.. prefix?.Invoke(replica) ?? [], trainer.FileName, .. trainer.Arguments, .. container.Args ?? []];
            var start = new ProcessStartInfo(words[0])
            {
                WorkingDirectory = workingDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in words.Skip(1))
            {
                start.ArgumentList.Add(argument);
            }

            foreach (V1EnvVar variable in container.Env ?? [])
            {
                start.Environment[variable.Name] = Resolve(variable);
            }

            WriteConfig(start.Environment[TrainerEnvironment.Config]!);
            if (start.Environment.TryGetValue(TrainerEnvironment.TlsDirectory, out string? tls) && tls is not null)
            {
                WriteTls(tls);
            }

            Directory.CreateDirectory(Path.Combine(runDirectory, "logs"));
            string terminationMessage = TerminationMessagePath(pod.Metadata.Name);
            File.Delete(terminationMessage);
            start.Environment[TrainerEnvironment.TerminationMessagePath] = terminationMessage;
            var log = new StreamWriter(Path.Combine(runDirectory, "logs", pod.Metadata.Name + ".log"), append: true) { AutoFlush = true };
            var process = new Process { StartInfo = start, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, line) => Write(log, line.Data);
            process.ErrorDataReceived += (_, line) => Write(log, line.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            DateTime started = DateTime.UtcNow;
            pod.Metadata.Uid = Guid.NewGuid().ToString();
            pod.Metadata.CreationTimestamp = started;
            pod.Status = new V1PodStatus
            {
                Phase = "Running",
                StartTime = started,
                Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }],
                ContainerStatuses = [new V1ContainerStatus { Name = JobNames.TrainerContainer, Ready = true, State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = started } } }],
            };
            var local = new LocalPod(pod, process);
            local.Exited = WatchExitAsync(local, log);
            _pods[pod.Metadata.Name] = local;
        }

        return Task.CompletedTask;
    }

    public Task DeletePodAsync(string ns, string name, CancellationToken cancellation)
    {
        lock (_lock)
        {
            if (!_pods.TryGetValue(name, out LocalPod? local) || local.Pod.Metadata.DeletionTimestamp is not null)
            {
                return Task.CompletedTask;
            }

            local.Pod.Metadata.DeletionTimestamp = DateTime.UtcNow;
            _ = RemoveAsync(local);
        }

        return Task.CompletedTask;
    }

    public Task UpdateStatusAsync(LowCommJob job, LowCommJobStatus status, CancellationToken cancellation)
    {
        Job = new LowCommJob { Metadata = Job.Metadata, Spec = Job.Spec, Status = status };
        return Task.CompletedTask;
    }

    public Task RecordEventAsync(LowCommJob job, JobEvent jobEvent, CancellationToken cancellation)
    {
        lock (_lock)
        {
            _events.Add(jobEvent);
        }

        EventRecorded?.Invoke(jobEvent);
        return Task.CompletedTask;
    }

    public Task DeleteJobAsync(LowCommJob job, CancellationToken cancellation)
    {
        JobDeleted = true;
        return Task.CompletedTask;
    }

    /// <summary>Stops every replica gracefully (each writes a checkpoint on SIGTERM) and waits for them.</summary>
    public async Task StopAllAsync()
    {
        Task[] exits;
        lock (_lock)
        {
            foreach (LocalPod local in _pods.Values.Where(p => !p.Process.HasExited))
            {
                local.Pod.Metadata.DeletionTimestamp ??= DateTime.UtcNow;
                Terminate(local.Process);
            }

            exits = [.. _pods.Values.Select(p => p.Exited)];
        }

        Task all = Task.WhenAll(exits);
        if (await Task.WhenAny(all, Task.Delay(s_gracePeriod)) != all)
        {
            KillAll();
            await all;
        }
    }

    public async ValueTask DisposeAsync()
    {
        KillAll();
        Task[] exits;
        lock (_lock)
        {
            exits = [.. _pods.Values.Select(p => p.Exited)];
        }

        await Task.WhenAll(exits);
        _changed.Dispose();
    }

    private void KillAll()
    {
        lock (_lock)
        {
            foreach (LocalPod local in _pods.Values.Where(p => !p.Process.HasExited))
            {
                local.Process.Kill(entireProcessTree: true);
            }
        }
    }

    private async Task WatchExitAsync(LocalPod local, StreamWriter log)
    {
        await local.Process.WaitForExitAsync();
        local.Process.WaitForExit(); // drains the redirected output
        await log.DisposeAsync();
        DateTime finished = DateTime.UtcNow;
        int code = local.Process.ExitCode;
        lock (_lock)
        {
            local.Pod.Status = new V1PodStatus
            {
                Phase = code == 0 ? "Succeeded" : "Failed",
                StartTime = local.Pod.Status.StartTime,
                Conditions = [new V1PodCondition { Type = "Ready", Status = "False" }],
                ContainerStatuses =
                [
                    new V1ContainerStatus
                    {
                        Name = JobNames.TrainerContainer,
                        State = new V1ContainerState
                        {
                            Terminated = new V1ContainerStateTerminated
                            {
                                ExitCode = code,
                                FinishedAt = finished,
                                Reason = code == 0 ? "Completed" : "Error",
                                Message = TerminationMessage(local.Pod.Metadata.Name, code),
                            },
                        },
                    },
                ],
            };
        }

        _changed.Release();
    }

    private string TerminationMessagePath(string pod) => Path.Combine(runDirectory, "logs", pod + ".termination");

    /// <summary>
    /// As the kubelet with <c>terminationMessagePolicy: FallbackToLogsOnError</c>: the file the trainer wrote, else, for
    /// a failed container, the tail of its log (at most 80 lines and 2048 bytes).
    /// </summary>
    private string? TerminationMessage(string pod, int exitCode)
    {
        string path = TerminationMessagePath(pod);
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } written)
        {
            return written;
        }

        string log = Path.Combine(runDirectory, "logs", pod + ".log");
        if (exitCode == 0 || !File.Exists(log))
        {
            return null;
        }

        string tail = string.Join('\n', File.ReadLines(log).TakeLast(80));
        return tail.Length > 2048 ? tail[^2048..] : tail;
    }

    private async Task RemoveAsync(LocalPod local)
    {
        if (!local.Process.HasExited)
        {
            Terminate(local.Process);
            if (await Task.WhenAny(local.Exited, Task.Delay(s_gracePeriod)) != local.Exited)
            {
                local.Process.Kill(entireProcessTree: true);
            }
        }

        await local.Exited;
        lock (_lock)
        {
            _pods.Remove(local.Pod.Metadata.Name);
        }

        local.Process.Dispose();
        _changed.Release();
    }

    private string Resolve(V1EnvVar variable)
    {
        if (variable.ValueFrom?.SecretKeyRef is { } reference)
        {
            return _secret?.Metadata.Name == reference.Name && _secret.Data?.TryGetValue(reference.Key, out byte[]? value) == true
                ? Encoding.UTF8.GetString(value)
                : throw new InvalidOperationException($"Secret {reference.Name} has no key {reference.Key}.");
        }

        return variable.Value ?? "";
    }

    private void WriteConfig(string path)
    {
        if (_secret?.Data?.TryGetValue(JobNames.ConfigKey, out byte[]? config) == true)
        {
            // Pods start in parallel and a started trainer may be reading the file: replace it whole, never truncate it.
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            File.WriteAllBytes(temporary, config);
            File.Move(temporary, path, overwrite: true);
        }
    }

    /// <summary>The Secret's TLS files where the pod's environment says, as the kubelet mounts them: the key readable by this user only.</summary>
    private void WriteTls(string directory)
    {
        if (Credentials?.Tls is not { } tls)
        {
            return;
        }

        Directory.CreateDirectory(directory);
        foreach ((string file, string text) in (ReadOnlySpan<(string, string)>)[(JobTlsFiles.CaFile, tls.CaCertificate), (JobTlsFiles.CertificateFile, tls.Certificate), (JobTlsFiles.KeyFile, tls.PrivateKey)])
        {
            // Replaced whole, like the config: a started trainer may be reading the files.
            string temporary = Path.Combine(directory, file + "." + Guid.NewGuid().ToString("N") + ".tmp");
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(Encoding.UTF8.GetBytes(text));
            }

            File.Move(temporary, Path.Combine(directory, file), overwrite: true);
        }
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.WriteLine(line);
            }
        }
    }

    /// <summary>SIGTERM, as the kubelet sends it: the trainer checkpoints and exits.</summary>
    private static void Terminate(Process process)
    {
        if (!process.HasExited)
        {
            _ = Kill(process.Id, 15);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
