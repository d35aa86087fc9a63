using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DesLoc.Operator.Kubernetes;

/// <summary>
/// Writes core/v1 Events about objects, as <c>kubectl describe</c> shows them. A repeat of the same object, type,
/// reason and message within the aggregation window patches the earlier Event's <c>count</c> and
/// <c>lastTimestamp</c> instead of adding one (<see cref="EventAggregation.Decide"/>). Never throws: an Event
/// that cannot be written is logged and dropped.
/// </summary>
public sealed class EventRecorder : IDisposable
{
    public const string Normal = "Normal";
    public const string Warning = "Warning";
    public const string DefaultComponent = "desloc-operator";

    // Past this many remembered series, those outside the window are forgotten.
    private const int PruneAbove = 4096;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<(string Object, string Type, string Reason, string Message), EventSeries> _series = [];
    private readonly IKubernetes _client;
    private readonly string _component;
    private readonly string? _instance;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _window;
    private long _sequence;

    /// <param name="client">Where Events are written.</param>
    /// <param name="component">source.component and reportingComponent.</param>
    /// <param name="instance">reportingInstance (the pod's name), if known.</param>
    /// <param name="logger">Where dropped Events are logged.</param>
    /// <param name="time">The clock for timestamps; the system clock when null.</param>
    /// <param name="window">The aggregation window; <see cref="EventAggregation.DefaultWindow"/> when null.</param>
    public EventRecorder(
        IKubernetes client,
        string component = DefaultComponent,
        string? instance = null,
        ILogger? logger = null,
        TimeProvider? time = null,
        TimeSpan? window = null)
    {
        _client = client;
        _component = component;
        _instance = instance;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _window = window ?? EventAggregation.DefaultWindow;
    }

    public Task NormalAsync(IKubernetesObject<V1ObjectMeta> obj, string reason, string message, CancellationToken cancellationToken = default) =>
        RecordAsync(obj, Normal, reason, message, cancellationToken);

    public Task WarningAsync(IKubernetesObject<V1ObjectMeta> obj, string reason, string message, CancellationToken cancellationToken = default) =>
        RecordAsync(obj, Warning, reason, message, cancellationToken);

    /// <summary>Writes (or aggregates) one Event about <paramref name="obj"/>; completes without throwing.</summary>
    public async Task RecordAsync(
        IKubernetesObject<V1ObjectMeta> obj, string type, string reason, string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var involved = Reference(obj);
        try
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await WriteAsync(involved, type, reason, message, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (Exception e)
        {
            // Events are advice for humans: losing one must never fail a reconcile.
            _logger.EventDropped(e, reason, involved.Kind, involved.NamespaceProperty, involved.Name);
        }
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>The involvedObject for <paramref name="obj"/>; kind and apiVersion come from the type when unset (list items).</summary>
    public static V1ObjectReference Reference(IKubernetesObject<V1ObjectMeta> obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var entity = obj.GetType().GetCustomAttribute<KubernetesEntityAttribute>();
        var apiVersion = obj.ApiVersion;
        if (string.IsNullOrEmpty(apiVersion) && entity is not null)
        {
            apiVersion = string.IsNullOrEmpty(entity.Group) ? entity.ApiVersion : $"{entity.Group}/{entity.ApiVersion}";
        }

        return new V1ObjectReference
        {
            ApiVersion = apiVersion,
            Kind = string.IsNullOrEmpty(obj.Kind) ? entity?.Kind : obj.Kind,
            Name = obj.Metadata?.Name,
            NamespaceProperty = obj.Metadata?.NamespaceProperty,
            Uid = obj.Metadata?.Uid,
            ResourceVersion = obj.Metadata?.ResourceVersion,
        };
    }

    private async Task WriteAsync(V1ObjectReference involved, string type, string reason, string message, CancellationToken cancellationToken)
    {
        // Kubernetes timestamps have whole seconds.
        var exact = _time.GetUtcNow().UtcDateTime;
        var now = new DateTime(exact.Ticks - (exact.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        var key = (involved.Uid ?? $"{involved.Kind}/{involved.NamespaceProperty}/{involved.Name}", type, reason, message);
        var previous = _series.GetValueOrDefault(key);
        var decision = EventAggregation.Decide(previous, now, _window);

        if (!decision.CreateNew && previous is not null)
        {
            try
            {
                var patch = new JsonObject
                {
                    ["count"] = decision.Count,
                    ["lastTimestamp"] = now.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                };
                await _client.CoreV1.PatchNamespacedEventAsync(
                    new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), previous.Name, previous.Namespace,
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                _series[key] = previous with { Count = decision.Count, LastTimestamp = now };
                return;
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound)
            {
                // The Event expired (the server keeps them an hour): start a new series.
                decision = new EventDecision(true, 1, now, now);
            }
        }

        var @namespace = string.IsNullOrEmpty(involved.NamespaceProperty) ? "default" : involved.NamespaceProperty;
        // client-go names Events name.<unix nanoseconds>; the sequence keeps two Events of one instant apart.
        var name = $"{involved.Name}.{exact.Ticks:x}{++_sequence:x}";
        var created = new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = @namespace },
            InvolvedObject = involved,
            Reason = reason,
            Message = message,
            Type = type,
            Source = new V1EventSource { Component = _component },
            ReportingComponent = _component,
            ReportingInstance = _instance,
            FirstTimestamp = decision.FirstTimestamp,
            LastTimestamp = decision.LastTimestamp,
            Count = decision.Count,
        };
        await _client.CoreV1.CreateNamespacedEventAsync(created, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        _series[key] = new EventSeries(name, @namespace, decision.Count, decision.FirstTimestamp, decision.LastTimestamp);
        Prune(now);
    }

    private void Prune(DateTime now)
    {
        if (_series.Count <= PruneAbove)
        {
            return;
        }

        foreach (var key in _series.Where(p => now - p.Value.LastTimestamp > _window).Select(p => p.Key).ToList())
        {
            _series.Remove(key);
        }
    }
}
