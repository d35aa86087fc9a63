namespace DesLoc.Operator.Kubernetes;

/// <summary>
/// Creations a controller has made and its cache has not yet seen (training-operator's expectations): a reconcile
/// that runs before the cache has observed pod X of job K must not create X again. An expectation ends when the
/// cache observes the object, when the creation failed, or after a timeout (the event may have been missed).
/// </summary>
public sealed class CreationExpectations
{
    private readonly Lock _gate = new();
    // Owner key to (object key to when the creation was recorded).
    private readonly Dictionary<string, Dictionary<string, DateTimeOffset>> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _ownerOf = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    /// <param name="time">The clock for the timeout; the system clock when null.</param>
    /// <param name="timeout">How long an unobserved creation is expected (5 min when null, as training-operator).</param>
    public CreationExpectations(TimeProvider? time = null, TimeSpan? timeout = null)
    {
        _time = time ?? TimeProvider.System;
        Timeout = timeout ?? TimeSpan.FromMinutes(5);
    }

    public TimeSpan Timeout { get; }

    /// <summary>Records that the owner <paramref name="ownerKey"/> created (or is about to create) <paramref name="objectKey"/>.</summary>
    public void ExpectCreation(string ownerKey, string objectKey)
    {
        lock (_gate)
        {
            if (_ownerOf.TryGetValue(objectKey, out var previous) && previous != ownerKey)
            {
                Drop(previous, objectKey);
            }

            if (!_pending.TryGetValue(ownerKey, out var objects))
            {
                _pending[ownerKey] = objects = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            }

            objects[objectKey] = _time.GetUtcNow();
            _ownerOf[objectKey] = ownerKey;
        }
    }

    /// <summary>The cache saw <paramref name="objectKey"/>: its creation is no longer pending. Returns its owner, if any.</summary>
    public string? CreationObserved(string objectKey)
    {
        lock (_gate)
        {
            if (!_ownerOf.TryGetValue(objectKey, out var owner))
            {
                return null;
            }

            Drop(owner, objectKey);
            return owner;
        }
    }

    /// <summary>The create call failed: nothing will be observed, so stop expecting it.</summary>
    public void CreationFailed(string ownerKey, string objectKey)
    {
        lock (_gate)
        {
            Drop(ownerKey, objectKey);
        }
    }

    /// <summary>True when no creation of the owner is pending (expired ones are dropped): the cache can be trusted.</summary>
    public bool IsSatisfied(string ownerKey) => Pending(ownerKey).Count == 0;

    /// <summary>The owner's creations still pending, expired ones dropped.</summary>
    public IReadOnlyCollection<string> Pending(string ownerKey)
    {
        lock (_gate)
        {
            if (!_pending.TryGetValue(ownerKey, out var objects))
            {
                return [];
            }

            var now = _time.GetUtcNow();
            foreach (var (objectKey, _) in objects.Where(p => now - p.Value >= Timeout).ToList())
            {
                Drop(ownerKey, objectKey);
            }

            return _pending.TryGetValue(ownerKey, out var left) ? [.. left.Keys] : [];
        }
    }

    /// <summary>Forgets every expectation of an owner (it was deleted).</summary>
    public void Forget(string ownerKey)
    {
        lock (_gate)
        {
            if (_pending.Remove(ownerKey, out var objects))
            {
                foreach (var objectKey in objects.Keys)
                {
                    _ownerOf.Remove(objectKey);
                }
            }
        }
    }

    private void Drop(string ownerKey, string objectKey)
    {
        if (_pending.TryGetValue(ownerKey, out var objects) && objects.Remove(objectKey))
        {
            _ownerOf.Remove(objectKey);
            if (objects.Count == 0)
            {
                _pending.Remove(ownerKey);
            }
        }
    }
}
