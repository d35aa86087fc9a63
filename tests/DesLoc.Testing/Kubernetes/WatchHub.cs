using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace DesLoc.Testing.Kubernetes;

/// <summary>One change the store made: what watches replay and stream. <paramref name="Previous"/> is the object before a MODIFIED.</summary>
internal sealed record StoredEvent(long ResourceVersion, string Type, StoreKey Key, string Namespace, JsonObject Object, JsonObject? Previous);

/// <summary>One open watch: its filter and the newline-delimited JSON lines waiting to be written to it.</summary>
internal sealed class WatchSubscription(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields) : IDisposable
{
    private readonly CancellationTokenSource _dropped = new();

    public ResourceType Type { get; } = type;

    public Channel<string> Lines { get; } = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Cancelled by <see cref="TestApiServer.DropWatches"/>: the request handler then aborts the connection.</summary>
    public CancellationToken Dropped => _dropped.Token;

    public void Drop()
    {
        try
        {
            _dropped.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The watch ended on its own meanwhile.
        }
    }

    public void Dispose() => _dropped.Dispose();

    public bool Sees(StoreKey key, string objectNamespace) => key == Type.StoreKey && (ns is null || ns == objectNamespace);

    public bool Matches(JsonNode? obj) => obj is not null && labels.Matches(obj) && fields.Matches(obj);

    /// <summary>Writes one event as the apiserver frames it, naming the version this watch asked for.</summary>
    public void Write(string type, JsonNode obj)
    {
        JsonNode copy = obj.DeepClone();
        if (copy["kind"]?.GetValue<string>() != "Status")
        {
            copy["apiVersion"] = Type.ApiVersion;
        }

        Lines.Writer.TryWrite(new JsonObject { ["type"] = type, ["object"] = copy }.ToJsonString());
    }
}

/// <summary>
/// The event history (the apiserver's watch cache: the last <c>WatchHistory</c> events, older resourceVersions are
/// compacted) and the open watches. Not thread-safe: <see cref="ResourceStore"/> calls it under its lock, so every
/// watch sees events in resourceVersion order and a bookmark never overtakes an event.
/// </summary>
internal sealed class WatchHub(int capacity)
{
    private readonly LinkedList<StoredEvent> _history = new();
    private readonly List<WatchSubscription> _subscriptions = [];

    /// <summary>Every event at or below this resourceVersion is forgotten: watching from before it gets 410.</summary>
    private long _compactedThrough;

    public void Publish(StoredEvent stored)
    {
        _history.AddLast(stored);
        while (_history.Count > capacity)
        {
            _compactedThrough = _history.First!.Value.ResourceVersion;
            _history.RemoveFirst();
        }

        foreach (WatchSubscription subscription in _subscriptions)
        {
            Deliver(subscription, stored);
        }
    }

    /// <summary>
    /// Starts a watch: with no resourceVersion (or "0") it first lists the current objects as ADDED; from a kept
    /// resourceVersion it replays what came after; from a compacted one it writes one ERROR (410 Expired) and ends.
    /// </summary>
    public void Subscribe(WatchSubscription subscription, long? from, IEnumerable<JsonObject> current)
    {
        if (from is null or 0)
        {
            foreach (JsonObject obj in current.Where(subscription.Matches))
            {
                subscription.Write("ADDED", obj);
            }
        }
        else if (from < _compactedThrough)
        {
            subscription.Write("ERROR", ApiErrors.Expired(from.Value, _compactedThrough + 1));
            subscription.Lines.Writer.TryComplete();
            return;
        }
        else
        {
            foreach (StoredEvent stored in _history.Where(e => e.ResourceVersion > from))
            {
                Deliver(subscription, stored);
            }
        }

        _subscriptions.Add(subscription);
    }

    public void Unsubscribe(WatchSubscription subscription) => _subscriptions.Remove(subscription);

    /// <summary>A BOOKMARK with only kind, apiVersion and the resourceVersion every event before it has reached.</summary>
    public static void Bookmark(WatchSubscription subscription, long resourceVersion) =>
        subscription.Write("BOOKMARK", new JsonObject
        {
            ["kind"] = subscription.Type.Kind,
            ["apiVersion"] = subscription.Type.ApiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) },
        });

    public void Compact(long currentResourceVersion)
    {
        _history.Clear();
        _compactedThrough = currentResourceVersion;
    }

    /// <summary>Forgets every open watch and hands them back to be dropped outside the lock (cancelling runs their handlers inline).</summary>
    public List<WatchSubscription> DetachAll()
    {
        List<WatchSubscription> all = [.. _subscriptions];
        _subscriptions.Clear();
        return all;
    }

    /// <summary>As the apiserver filters: an object that starts (stops) matching the selectors arrives as ADDED (DELETED).</summary>
    private static void Deliver(WatchSubscription subscription, StoredEvent stored)
    {
        if (!subscription.Sees(stored.Key, stored.Namespace))
        {
            return;
        }

        bool now = subscription.Matches(stored.Object);
        bool before = stored.Type == "MODIFIED" ? subscription.Matches(stored.Previous) : now;
        string? type = (before, now) switch
        {
            (true, true) => stored.Type,
            (false, true) => "ADDED",
            (true, false) => "DELETED",
            _ => null,
        };
        if (type is not null)
        {
            subscription.Write(type, stored.Object);
        }
    }
}
