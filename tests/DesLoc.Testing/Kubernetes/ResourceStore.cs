using System.Globalization;
using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// The objects, with the apiserver's bookkeeping: uid, creationTimestamp, one global resourceVersion, generation,
/// generateName, the status subresource split, optimistic concurrency, finalizers and the owner-reference cascade
/// (the garbage collector in background mode, run at once). One lock guards everything; every change is published
/// to the <see cref="WatchHub"/> under it.
/// </summary>
internal sealed class ResourceStore(ResourceCatalog catalog, TestApiServerOptions options)
{
    private const string NameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    private readonly Lock _gate = new();
    private readonly Dictionary<StoreKey, Dictionary<(string Namespace, string Name), JsonObject>> _objects = [];
    private readonly WatchHub _hub = new(Math.Max(1, options.WatchHistory));
    private long _resourceVersion;

    public JsonObject Get(ResourceType type, string ns, string name)
    {
        lock (_gate)
        {
            return Served(type, Find(type, ns, name) ?? throw ApiErrors.NotFound(type, name));
        }
    }

    /// <summary>The matching objects (namespace null: every namespace) and the resourceVersion a watch may start from.</summary>
    public (long ResourceVersion, List<JsonObject> Items) List(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields)
    {
        lock (_gate)
        {
            return (_resourceVersion, [.. Current(type, ns).Where(o => labels.Matches(o) && fields.Matches(o)).Select(o => Served(type, o))]);
        }
    }

    public JsonObject Create(ResourceType type, string ns, JsonObject body)
    {
        lock (_gate)
        {
            JsonObject obj = (JsonObject)body.DeepClone();
            obj["apiVersion"] = type.ApiVersion;
            obj["kind"] = type.Kind;
            JsonObject metadata = Metadata(obj);
            string name = metadata["name"]?.GetValue<string>() ?? "";
            if (name.Length == 0)
            {
                string prefix = metadata["generateName"]?.GetValue<string>() ?? "";
                if (prefix.Length == 0)
                {
                    throw ApiErrors.Invalid(type, "", [new("metadata.name", "Required value: name or generateName is required")]);
                }

                do
                {
                    name = prefix + string.Concat(Enumerable.Range(0, 5).Select(_ => NameAlphabet[Random.Shared.Next(NameAlphabet.Length)]));
                }
                while (Find(type, ns, name) is not null);
                metadata["name"] = name;
            }

            SetNamespace(type, metadata, ns);
            if (Find(type, ns, name) is not null)
            {
                throw ApiErrors.AlreadyExists(type, name);
            }

            metadata["uid"] = Guid.NewGuid().ToString();
            metadata["creationTimestamp"] = Now();
            metadata["generation"] = 1L;
            metadata.Remove("deletionTimestamp");
            metadata.Remove("deletionGracePeriodSeconds");
            InitialStatus(type, obj);
            if (type.IsCustom && type.Schema is not null)
            {
                options.ApplyDefaults?.Invoke(type.Schema, obj);
            }

            Validate(type, name, obj, null);
            AdmitPod(type, ns, name, obj);
            Commit(type, ns, name, obj, "ADDED", null);
            if (ResourceCatalog.IsCrd(type))
            {
                catalog.Register(obj);
            }

            JsonObject served = Served(type, obj);
            if (OwnerUids(obj).Any() && !OwnerUids(obj).Any(LivingUids().Contains))
            {
                // The garbage collector deletes a dependent whose owners are all gone, also one created after they went
                // (a controller acting on a stale cache). The create itself succeeds, as on a real cluster.
                DeleteLocked(type.StoreKey, ns, name, obj);
            }

            return served;
        }
    }

    /// <summary>PUT: replaces the object (or, for <paramref name="statusOnly"/>, only its status).</summary>
    public JsonObject Replace(ResourceType type, string ns, string name, JsonObject body, bool statusOnly)
    {
        lock (_gate)
        {
            JsonObject current = Find(type, ns, name) ?? throw ApiErrors.NotFound(type, name);
            return Update(type, ns, name, current, (JsonObject)body.DeepClone(), statusOnly);
        }
    }

    /// <summary>PATCH: the patch applies to the stored object, then the result is written as a PUT would be.</summary>
    public JsonObject Patch(ResourceType type, string ns, string name, string contentType, string body, bool statusOnly)
    {
        lock (_gate)
        {
            JsonObject current = Find(type, ns, name) ?? throw ApiErrors.NotFound(type, name);
            if (JsonPatches.Apply(contentType, current, body) is not JsonObject patched)
            {
                throw ApiErrors.BadRequest("the patch did not produce an object");
            }

            return Update(type, ns, name, current, patched, statusOnly);
        }
    }

    /// <summary>Test-side write: changes the stored object's status without a request (what a kubelet would report).</summary>
    public JsonObject MutateStatus(ResourceType type, string ns, string name, Action<JsonObject> mutate)
    {
        lock (_gate)
        {
            JsonObject current = Find(type, ns, name) ?? throw ApiErrors.NotFound(type, name);
            var next = (JsonObject)current.DeepClone();
            mutate(next);
            return Update(type, ns, name, current, next, statusOnly: true);
        }
    }

    /// <summary>
    /// DELETE: an object with finalizers only gets its deletionTimestamp (it goes when an update empties them);
    /// otherwise it goes at once, and so do its dependents that have no other owner left.
    /// </summary>
    public JsonObject Delete(ResourceType type, string ns, string name)
    {
        lock (_gate)
        {
            JsonObject current = Find(type, ns, name) ?? throw ApiErrors.NotFound(type, name);
            return Served(type, DeleteLocked(type.StoreKey, ns, name, current));
        }
    }

    public WatchSubscription Watch(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, long? from)
    {
        var subscription = new WatchSubscription(type, ns, labels, fields);
        lock (_gate)
        {
            _hub.Subscribe(subscription, from, Current(type, ns));
        }

        return subscription;
    }

    public void Unwatch(WatchSubscription subscription)
    {
        lock (_gate)
        {
            _hub.Unsubscribe(subscription);
        }
    }

    public void Bookmark(WatchSubscription subscription)
    {
        lock (_gate)
        {
            WatchHub.Bookmark(subscription, _resourceVersion);
        }
    }

    public void CompactHistory()
    {
        lock (_gate)
        {
            _hub.Compact(_resourceVersion);
        }
    }

    public void DropWatches()
    {
        List<WatchSubscription> open;
        lock (_gate)
        {
            open = _hub.DetachAll();
        }

        foreach (WatchSubscription subscription in open)
        {
            subscription.Drop();
        }
    }

    private JsonObject Update(ResourceType type, string ns, string name, JsonObject current, JsonObject proposed, bool statusOnly)
    {
        JsonObject proposedMetadata = Metadata(proposed);
        string? precondition = proposedMetadata["resourceVersion"]?.GetValue<string>();
        JsonObject currentMetadata = Metadata(current);
        if (!string.IsNullOrEmpty(precondition) && precondition != currentMetadata["resourceVersion"]!.GetValue<string>())
        {
            throw ApiErrors.Conflict(type, name);
        }

        string? proposedName = proposedMetadata["name"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(proposedName) && proposedName != name)
        {
            throw ApiErrors.BadRequest($"the name of the object ({proposedName}) does not match the name on the URL ({name})");
        }

        JsonObject next;
        if (statusOnly)
        {
            // The status endpoint changes the status and nothing else.
            next = (JsonObject)current.DeepClone();
            CopyOrRemove(proposed, next, "status");
        }
        else
        {
            next = proposed;
            next["apiVersion"] = type.ApiVersion;
            next["kind"] = type.Kind;
            JsonObject metadata = Metadata(next);
            foreach (string field in (string[])["name", "namespace", "uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"])
            {
                CopyOrRemove(currentMetadata, metadata, field);
            }

            if (type.HasStatus)
            {
                // With a status subresource the main endpoint cannot change the status.
                CopyOrRemove(current, next, "status");
            }

            if (currentMetadata["deletionTimestamp"] is not null && metadata["finalizers"] is JsonArray added)
            {
                // Once deleting, finalizers can only be removed.
                HashSet<string> kept = [.. (currentMetadata["finalizers"] as JsonArray ?? []).Select(f => f!.GetValue<string>())];
                metadata["finalizers"] = new JsonArray([.. added.Select(f => f!.GetValue<string>()).Where(kept.Contains).Select(f => (JsonNode)f)]);
            }

            if (type.IsCustom && type.Schema is not null)
            {
                options.ApplyDefaults?.Invoke(type.Schema, next);
            }

            if (!JsonNode.DeepEquals(WithoutMetadataAndStatus(current), WithoutMetadataAndStatus(next)))
            {
                metadata["generation"] = long.Parse(currentMetadata["generation"]!.ToJsonString(), CultureInfo.InvariantCulture) + 1;
            }
        }

        Metadata(next)["resourceVersion"] = currentMetadata["resourceVersion"]!.DeepClone();
        if (JsonNode.DeepEquals(current, next))
        {
            // A write that changes nothing is a no-op: no new resourceVersion, no watch event.
            return Served(type, current);
        }

        Validate(type, name, next, current);
        if (Metadata(next)["deletionTimestamp"] is not null && (Metadata(next)["finalizers"] as JsonArray ?? []).Count == 0)
        {
            Commit(type, ns, name, next, "DELETED", current);
            Cascade(next);
            return Served(type, next);
        }

        Commit(type, ns, name, next, "MODIFIED", current);
        if (ResourceCatalog.IsCrd(type))
        {
            catalog.Register(next);
        }

        return Served(type, next);
    }

    private JsonObject DeleteLocked(StoreKey key, string ns, string name, JsonObject current)
    {
        JsonObject metadata = Metadata(current);
        ResourceType type = TypeFor(key);
        if ((metadata["finalizers"] as JsonArray ?? []).Count > 0)
        {
            if (metadata["deletionTimestamp"] is not null)
            {
                return current;
            }

            var next = (JsonObject)current.DeepClone();
            Metadata(next)["deletionTimestamp"] = Now();
            Metadata(next)["deletionGracePeriodSeconds"] = 0;
            Commit(type, ns, name, next, "MODIFIED", current);
            return next;
        }

        var gone = (JsonObject)current.DeepClone();
        Commit(type, ns, name, gone, "DELETED", current);
        if (ResourceCatalog.IsCrd(type))
        {
            // Deleting a CRD deletes its objects and stops serving it.
            var served = new StoreKey(gone["spec"]?["group"]?.GetValue<string>() ?? "", gone["spec"]?["names"]?["plural"]?.GetValue<string>() ?? "");
            foreach (((string objectNs, string objectName), JsonObject obj) in Bucket(served).ToList())
            {
                DeleteLocked(served, objectNs, objectName, obj);
            }

            catalog.Unregister(name);
        }

        Cascade(gone);
        return gone;
    }

    /// <summary>Deletes every object owned by <paramref name="owner"/> whose owners are now all gone.</summary>
    private void Cascade(JsonObject owner)
    {
        string? uid = Metadata(owner)["uid"]?.GetValue<string>();
        var dependents = new List<(StoreKey Key, string Ns, string Name, JsonObject Obj)>();
        foreach ((StoreKey key, Dictionary<(string Namespace, string Name), JsonObject> bucket) in _objects)
        {
            foreach (((string ns, string name), JsonObject obj) in bucket)
            {
                if (OwnerUids(obj).Contains(uid))
                {
                    dependents.Add((key, ns, name, obj));
                }
            }
        }

        HashSet<string?> living = LivingUids();
        foreach ((StoreKey key, string ns, string name, JsonObject obj) in dependents)
        {
            if (!OwnerUids(obj).Any(living.Contains) && Bucket(key).TryGetValue((ns, name), out JsonObject? still))
            {
                DeleteLocked(key, ns, name, still);
            }
        }
    }

    private void Commit(ResourceType type, string ns, string name, JsonObject obj, string eventType, JsonObject? previous)
    {
        _resourceVersion++;
        Metadata(obj)["resourceVersion"] = _resourceVersion.ToString(CultureInfo.InvariantCulture);
        if (eventType == "DELETED")
        {
            Bucket(type.StoreKey).Remove((ns, name));
        }
        else
        {
            Bucket(type.StoreKey)[(ns, name)] = obj;
        }

        _hub.Publish(new StoredEvent(_resourceVersion, eventType, type.StoreKey, ns, (JsonObject)obj.DeepClone(), (JsonObject?)previous?.DeepClone()));
    }

    private void Validate(ResourceType type, string name, JsonObject obj, JsonObject? old)
    {
        if (ResourceCatalog.IsCrd(type))
        {
            ValidateCrd(type, name, obj);
        }

        if (!type.IsCustom || type.Schema is null || options.ValidateCustomObject is null)
        {
            return;
        }

        IReadOnlyList<FieldViolation> violations = options.ValidateCustomObject(type.Schema, obj, old);
        if (violations.Count > 0)
        {
            throw ApiErrors.Invalid(type, name, violations);
        }
    }

    /// <summary>Pod Security admission: a namespace labelled to enforce <c>restricted</c> refuses pods that break it.</summary>
    private void AdmitPod(ResourceType type, string ns, string name, JsonObject pod)
    {
        if (type.Group.Length != 0 || type.Plural != "pods"
            || !Bucket(new StoreKey("", "namespaces")).TryGetValue(("", ns), out JsonObject? namespaceObject)
            || namespaceObject["metadata"]?["labels"]?[PodSecurity.EnforceLabel]?.GetValue<string>() != "restricted")
        {
            return;
        }

        IReadOnlyList<string> violations = PodSecurity.RestrictedViolations(pod);
        if (violations.Count > 0)
        {
            throw ApiErrors.Forbidden(type, name, $"violates PodSecurity \"restricted:latest\": {string.Join(", ", violations)}");
        }
    }

    private static void ValidateCrd(ResourceType type, string name, JsonObject crd)
    {
        var violations = new List<FieldViolation>();
        JsonNode? spec = crd["spec"];
        foreach (string path in (string[])["group", "names.plural", "names.kind"])
        {
            JsonNode? node = spec;
            foreach (string step in path.Split('.'))
            {
                node = node?[step];
            }

            if (string.IsNullOrEmpty(node?.GetValue<string>()))
            {
                violations.Add(new($"spec.{path}", "Required value"));
            }
        }

        if ((spec?["versions"] as JsonArray ?? []).Count == 0)
        {
            violations.Add(new("spec.versions", "Invalid value: \"null\": must have exactly one version marked as storage version"));
        }

        string expected = $"{spec?["names"]?["plural"]?.GetValue<string>()}.{spec?["group"]?.GetValue<string>()}";
        if (violations.Count == 0 && name != expected)
        {
            violations.Add(new("metadata.name", $"Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"));
        }

        violations.AddRange(Validation.StructuralSchema.ValidateCrdDefaults(crd));

        if (violations.Count > 0)
        {
            throw ApiErrors.Invalid(type, name, violations);
        }
    }

    /// <summary>What the apiserver's create strategies do to status: custom resources with a status subresource start without one.</summary>
    private static void InitialStatus(ResourceType type, JsonObject obj)
    {
        if (type.IsCustom && type.HasStatus)
        {
            obj.Remove("status");
        }
        else if (type.Group.Length == 0 && type.Plural == "pods")
        {
            obj["status"] = new JsonObject { ["phase"] = "Pending" };
        }
        else if (type.Group.Length == 0 && type.Plural == "namespaces")
        {
            obj["status"] = new JsonObject { ["phase"] = "Active" };
        }
        else if (ResourceCatalog.IsCrd(type))
        {
            obj["status"] = new JsonObject
            {
                ["acceptedNames"] = obj["spec"]?["names"]?.DeepClone(),
                ["conditions"] = new JsonArray(
                    new JsonObject { ["type"] = "NamesAccepted", ["status"] = "True", ["reason"] = "NoConflicts", ["lastTransitionTime"] = Now() },
                    new JsonObject { ["type"] = "Established", ["status"] = "True", ["reason"] = "InitialNamesAccepted", ["lastTransitionTime"] = Now() }),
                ["storedVersions"] = new JsonArray([.. (obj["spec"]?["versions"] as JsonArray ?? [])
                    .Where(v => v?["storage"]?.GetValue<bool>() == true).Select(v => (JsonNode)v!["name"]!.GetValue<string>())]),
            };
        }
    }

    private static void SetNamespace(ResourceType type, JsonObject metadata, string ns)
    {
        if (!type.Namespaced)
        {
            metadata.Remove("namespace");
            return;
        }

        string? given = metadata["namespace"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(given) && given != ns)
        {
            throw ApiErrors.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        metadata["namespace"] = ns;
    }

    private ResourceType TypeFor(StoreKey key) =>
        catalog.All().FirstOrDefault(t => t.StoreKey == key)
        ?? new ResourceType(key.Group, "v1", key.Plural, key.Plural, key.Plural, Namespaced: true, HasStatus: false, []);

    private JsonObject? Find(ResourceType type, string ns, string name) =>
        Bucket(type.StoreKey).GetValueOrDefault((type.Namespaced ? ns : "", name));

    private IEnumerable<JsonObject> Current(ResourceType type, string? ns) =>
        Bucket(type.StoreKey)
            .Where(entry => ns is null || entry.Key.Namespace == ns)
            .OrderBy(entry => entry.Key.Namespace, StringComparer.Ordinal)
            .ThenBy(entry => entry.Key.Name, StringComparer.Ordinal)
            .Select(entry => entry.Value);

    private Dictionary<(string Namespace, string Name), JsonObject> Bucket(StoreKey key)
    {
        if (!_objects.TryGetValue(key, out Dictionary<(string Namespace, string Name), JsonObject>? bucket))
        {
            bucket = [];
            _objects[key] = bucket;
        }

        return bucket;
    }

    /// <summary>A copy for the caller, naming the version it asked for.</summary>
    private static JsonObject Served(ResourceType type, JsonObject obj)
    {
        var copy = (JsonObject)obj.DeepClone();
        copy["apiVersion"] = type.ApiVersion;
        return copy;
    }

    private static JsonObject Metadata(JsonObject obj)
    {
        if (obj["metadata"] is not JsonObject metadata)
        {
            metadata = [];
            obj["metadata"] = metadata;
        }

        return metadata;
    }

    private HashSet<string?> LivingUids() => [.. _objects.Values.SelectMany(b => b.Values).Select(o => Metadata(o)["uid"]?.GetValue<string>())];

    private static IEnumerable<string?> OwnerUids(JsonObject obj) =>
        (obj["metadata"]?["ownerReferences"] as JsonArray ?? []).Select(reference => reference?["uid"]?.GetValue<string>());

    private static JsonObject WithoutMetadataAndStatus(JsonObject obj)
    {
        var copy = (JsonObject)obj.DeepClone();
        copy.Remove("metadata");
        copy.Remove("status");
        copy.Remove("apiVersion");
        copy.Remove("kind");
        return copy;
    }

    private static void CopyOrRemove(JsonObject from, JsonObject to, string field)
    {
        if (from[field] is JsonNode value)
        {
            to[field] = value.DeepClone();
        }
        else
        {
            to.Remove(field);
        }
    }

    private static string Now() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
