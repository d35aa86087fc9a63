using System.Net;
using System.Text.Json.Nodes;
using DesLoc.Testing.Kubernetes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DesLoc.Operator.Tests.ApiServer;

/// <summary>CRUD and bookkeeping through the real KubernetesClient over HTTP.</summary>
public sealed class ApiServerCrudTests
{
    private const string Ns = "team-a";

    [Fact]
    public async Task Pods_CreateGetAndListByLabel_RoundTrip()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();

        V1Pod created = await client.CoreV1.CreateNamespacedPodAsync(Pod("a", ("app", "x"), ("tier", "web")), Ns);
        await client.CoreV1.CreateNamespacedPodAsync(Pod("b", ("app", "y")), Ns);
        await client.CoreV1.CreateNamespacedPodAsync(Pod("c", ("app", "x")), "other");

        Assert.Equal(Ns, created.Namespace());
        Assert.False(string.IsNullOrEmpty(created.Uid()));
        Assert.NotNull(created.Metadata.CreationTimestamp);
        Assert.Equal("Pending", created.Status.Phase);
        V1Pod read = await client.CoreV1.ReadNamespacedPodAsync("a", Ns);
        Assert.Equal(created.Uid(), read.Uid());
        Assert.Equal(created.ResourceVersion(), read.ResourceVersion());

        V1PodList inNamespace = await client.CoreV1.ListNamespacedPodAsync(Ns, labelSelector: "app=x");
        Assert.Equal(["a"], inNamespace.Items.Select(p => p.Name()));
        V1PodList everywhere = await client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: "app=x");
        Assert.Equal(["a", "c"], everywhere.Items.Select(p => p.Name()).Order());
        V1PodList byName = await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "metadata.name=b,metadata.namespace=team-a");
        Assert.Equal(["b"], byName.Items.Select(p => p.Name()));
    }

    [Theory]
    [InlineData("app=x", "a,c")]
    [InlineData("app==x", "a,c")]
    [InlineData("app!=x", "b,d")]
    [InlineData("app in (x,y)", "a,b,c")]
    [InlineData("app notin (x)", "b,d")]
    [InlineData("tier", "a,b")]
    [InlineData("!tier", "c,d")]
    [InlineData("app=x,tier", "a")]
    [InlineData("app in (x, y),!tier", "c")]
    public async Task ListConfigMaps_LabelSelector_FiltersAsTheApiserverDoes(string selector, string expected)
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", ("app", "x"), ("tier", "1")), Ns);
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b", ("app", "y"), ("tier", "2")), Ns);
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c", ("app", "x")), Ns);
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("d"), Ns);

        V1ConfigMapList list = await client.CoreV1.ListNamespacedConfigMapAsync(Ns, labelSelector: selector);

        Assert.Equal(expected, string.Join(',', list.Items.Select(c => c.Name())));
    }

    [Fact]
    public async Task Create_Twice_Is409AlreadyExists()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        await client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" } }, Ns);

        var e = await Assert.ThrowsAsync<HttpOperationException>(
            () => client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "s" } }, Ns));

        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
        JsonNode status = JsonNode.Parse(e.Response.Content)!;
        Assert.Equal("AlreadyExists", status["reason"]!.GetValue<string>());
        Assert.Equal("secrets \"s\" already exists", status["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Replace_WithStaleResourceVersion_Is409Conflict_AndWithCurrentSucceeds()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        V1ConfigMap first = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c"), Ns);
        first.Data = new Dictionary<string, string> { ["k"] = "1" };
        V1ConfigMap second = await client.CoreV1.ReplaceNamespacedConfigMapAsync(first, "c", Ns);
        Assert.NotEqual(first.ResourceVersion(), second.ResourceVersion());

        first.Data["k"] = "2";
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReplaceNamespacedConfigMapAsync(first, "c", Ns));

        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
        Assert.Contains("the object has been modified", e.Response.Content, StringComparison.Ordinal);
        second.Data["k"] = "3";
        V1ConfigMap third = await client.CoreV1.ReplaceNamespacedConfigMapAsync(second, "c", Ns);
        Assert.Equal("3", third.Data["k"]);
    }

    [Fact]
    public async Task ResourceVersion_IsOneGlobalIncreasingCounter_AndNoOpWritesKeepIt()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        V1ConfigMap a = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a"), Ns);
        V1Secret b = await client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "b" } }, "elsewhere");
        Assert.True(long.Parse(b.ResourceVersion()) > long.Parse(a.ResourceVersion()));

        V1ConfigMap same = await client.CoreV1.ReplaceNamespacedConfigMapAsync(a, "a", Ns);

        Assert.Equal(a.ResourceVersion(), same.ResourceVersion());
    }

    [Fact]
    public async Task Generation_BumpsOnSpecChange_NotOnMetadataOrStatus()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        await Widgets.InstallAsync(client);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(Widgets.New("w", 1), Widgets.Group, Widgets.Version, Ns, Widgets.Plural);

        JsonNode afterLabel = await Patch(client, "w", """{"metadata":{"labels":{"x":"y"}}}""", status: false);
        Assert.Equal(1, afterLabel["metadata"]!["generation"]!.GetValue<long>());
        JsonNode afterStatus = await Patch(client, "w", """{"status":{"phase":"Running"}}""", status: true);
        Assert.Equal(1, afterStatus["metadata"]!["generation"]!.GetValue<long>());
        JsonNode afterSpec = await Patch(client, "w", """{"spec":{"size":3}}""", status: false);
        Assert.Equal(2, afterSpec["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal("Running", afterSpec["status"]!["phase"]!.GetValue<string>());
    }

    [Fact]
    public async Task StatusSubresource_MainEndpointIgnoresStatus_StatusEndpointIgnoresSpec()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        await Widgets.InstallAsync(client);
        JsonObject widget = Widgets.New("w", 1);
        widget["status"] = new JsonObject { ["phase"] = "Forged" };
        JsonNode created = Widgets.Node(await client.CustomObjects.CreateNamespacedCustomObjectAsync(widget, Widgets.Group, Widgets.Version, Ns, Widgets.Plural));
        Assert.Null(created["status"]);

        JsonNode viaMain = await Patch(client, "w", """{"status":{"phase":"Forged"}}""", status: false);
        Assert.Null(viaMain["status"]);
        JsonNode viaStatus = await Patch(client, "w", """{"spec":{"size":9},"status":{"phase":"Running"}}""", status: true);

        Assert.Equal(1, viaStatus["spec"]!["size"]!.GetValue<int>());
        Assert.Equal("Running", viaStatus["status"]!["phase"]!.GetValue<string>());
        Assert.Equal("Running", server.Get(Widgets.ApiVersion, Widgets.Plural, Ns, "w")!["status"]!["phase"]!.GetValue<string>());
    }

    [Fact]
    public async Task Patches_MergeStrategicAndJsonPatch_ApplyToTheStoredObject()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        await client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "c" }, Data = new Dictionary<string, string> { ["keep"] = "1", ["drop"] = "2" } }, Ns);

        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"drop":null,"new":"3"}}""", V1Patch.PatchType.MergePatch), "c", Ns);
        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"labels":{"l":"v"}}}""", V1Patch.PatchType.StrategicMergePatch), "c", Ns);
        V1ConfigMap patched = await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(
            """[{"op":"test","path":"/data/keep","value":"1"},{"op":"replace","path":"/data/keep","value":"one"},{"op":"add","path":"/data/a~1b","value":"x"},{"op":"remove","path":"/data/new"}]""",
            V1Patch.PatchType.JsonPatch), "c", Ns);

        Assert.Equal(new Dictionary<string, string> { ["keep"] = "one", ["a/b"] = "x" }, patched.Data);
        Assert.Equal("v", patched.Labels()["l"]);
        var failedTest = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("""[{"op":"test","path":"/data/keep","value":"1"}]""", V1Patch.PatchType.JsonPatch), "c", Ns));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, failedTest.Response.StatusCode);
    }

    [Fact]
    public async Task Patch_WithStaleResourceVersion_Is409()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        V1ConfigMap created = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c"), Ns);
        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"a":"1"}}""", V1Patch.PatchType.MergePatch), "c", Ns);

        var e = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch($$$"""{"metadata":{"resourceVersion":"{{{created.ResourceVersion()}}}"},"data":{"a":"2"}}""", V1Patch.PatchType.MergePatch), "c", Ns));

        Assert.Equal(HttpStatusCode.Conflict, e.Response.StatusCode);
    }

    [Fact]
    public async Task Create_OfADependentWhoseOwnerIsGone_IsCollected()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        V1ConfigMap owner = await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("owner"), Ns);
        await client.CoreV1.DeleteNamespacedConfigMapAsync("owner", Ns);

        // A controller acting on a stale cache creates a child after its owner was deleted: the create succeeds and
        // the garbage collector removes the child, as on a real cluster.
        V1Pod late = Pod("late");
        late.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "owner", Uid = owner.Uid() }];
        V1Pod created = await client.CoreV1.CreateNamespacedPodAsync(late, Ns);

        Assert.Equal("late", created.Name());
        Assert.Null(server.Get("v1", "pods", Ns, "late"));
    }

    [Fact]
    public async Task Delete_CascadesToDependentsRecursively_AndSparesOthers()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        await Widgets.InstallAsync(client);
        JsonNode owner = Widgets.Node(await client.CustomObjects.CreateNamespacedCustomObjectAsync(Widgets.New("owner", 1), Widgets.Group, Widgets.Version, Ns, Widgets.Plural));
        V1Pod pod = await client.CoreV1.CreateNamespacedPodAsync(Owned(Pod("p"), owner), Ns);
        await client.CoreV1.CreateNamespacedConfigMapAsync(Owned(ConfigMap("grandchild"), pod), Ns);
        await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("bystander"), Ns);

        await client.CustomObjects.DeleteNamespacedCustomObjectAsync(Widgets.Group, Widgets.Version, Ns, Widgets.Plural, "owner");

        Assert.Null(server.Get(Widgets.ApiVersion, Widgets.Plural, Ns, "owner"));
        Assert.Null(server.Get("v1", "pods", Ns, "p"));
        Assert.Null(server.Get("v1", "configmaps", Ns, "grandchild"));
        Assert.NotNull(server.Get("v1", "configmaps", Ns, "bystander"));
    }

    [Fact]
    public async Task Delete_WithFinalizer_SetsDeletionTimestamp_UntilTheFinalizerIsRemoved()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        V1ConfigMap map = ConfigMap("c");
        map.Metadata.Finalizers = ["example.dev/cleanup"];
        await client.CoreV1.CreateNamespacedConfigMapAsync(map, Ns);

        await client.CoreV1.DeleteNamespacedConfigMapAsync("c", Ns);
        V1ConfigMap deleting = await client.CoreV1.ReadNamespacedConfigMapAsync("c", Ns);
        Assert.NotNull(deleting.Metadata.DeletionTimestamp);

        await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "c", Ns);
        var e = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReadNamespacedConfigMapAsync("c", Ns));
        Assert.Equal(HttpStatusCode.NotFound, e.Response.StatusCode);
    }

    [Fact]
    public async Task GenerateName_MakesAUniqueName()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();

        V1Pod first = await client.CoreV1.CreateNamespacedPodAsync(new V1Pod { Metadata = new V1ObjectMeta { GenerateName = "job-" } }, Ns);
        V1Pod second = await client.CoreV1.CreateNamespacedPodAsync(new V1Pod { Metadata = new V1ObjectMeta { GenerateName = "job-" } }, Ns);

        Assert.StartsWith("job-", first.Name(), StringComparison.Ordinal);
        Assert.Equal(9, first.Name().Length);
        Assert.NotEqual(first.Name(), second.Name());
    }

    [Fact]
    public async Task ValidateCustomObject_Violations_Are422WithOneCausePerField()
    {
        await using TestApiServer server = await TestApiServer.StartAsync(new TestApiServerOptions
        {
            ValidateCustomObject = (schema, obj, _) => obj["spec"]?["size"]?.GetValue<int>() < 1 && schema["type"]?.GetValue<string>() == "object"
                ? [new FieldViolation("spec.size", "Invalid value: 0: should be greater than or equal to 1"), new FieldViolation("spec.name", "Required value")]
                : [],
        });
        using IKubernetes client = server.CreateClient();
        await Widgets.InstallAsync(client);

        var e = await Assert.ThrowsAsync<HttpOperationException>(
            () => client.CustomObjects.CreateNamespacedCustomObjectAsync(Widgets.New("w", 0), Widgets.Group, Widgets.Version, Ns, Widgets.Plural));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, e.Response.StatusCode);
        V1Status status = KubernetesJson.Deserialize<V1Status>(e.Response.Content);
        Assert.Equal("Invalid", status.Reason);
        Assert.Equal(
            "Widget.example.dev \"w\" is invalid: [spec.size: Invalid value: 0: should be greater than or equal to 1, spec.name: Required value]",
            status.Message);
        Assert.Equal(["spec.size", "spec.name"], status.Details.Causes.Select(c => c.Field));
        Assert.All(status.Details.Causes, c => Assert.Equal("FieldValueInvalid", c.Reason));
        Assert.Equal("Widget", status.Details.Kind);
        Assert.Equal(Widgets.Group, status.Details.Group);
        Assert.Empty(server.List(Widgets.ApiVersion, Widgets.Plural));
    }

    [Fact]
    public async Task ApplyDefaults_RunsBeforeValidation()
    {
        await using TestApiServer server = await TestApiServer.StartAsync(new TestApiServerOptions
        {
            ApplyDefaults = (_, obj) => obj["spec"]!["size"] ??= 5,
            ValidateCustomObject = (_, obj, _) => obj["spec"]?["size"] is null ? [new FieldViolation("spec.size", "Required value")] : [],
        });
        using IKubernetes client = server.CreateClient();
        await Widgets.InstallAsync(client);
        JsonObject widget = Widgets.New("w", 1);
        widget["spec"] = new JsonObject();

        JsonNode created = Widgets.Node(await client.CustomObjects.CreateNamespacedCustomObjectAsync(widget, Widgets.Group, Widgets.Version, Ns, Widgets.Plural));

        Assert.Equal(5, created["spec"]!["size"]!.GetValue<int>());
    }

    [Fact]
    public async Task FailNext_FailsTheMatchingRequestsOnce_AndCountRequestsSeesThem()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        await Widgets.InstallAsync(client);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(Widgets.New("w", 1), Widgets.Group, Widgets.Version, Ns, Widgets.Plural);
        server.FailNext("PATCH", "/widgets/w/status", 409);
        server.FailNext("GET", "/widgets/w", 500, times: 2);

        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => Patch(client, "w", """{"status":{"phase":"A"}}""", status: true));
        await Patch(client, "w", """{"status":{"phase":"B"}}""", status: true);
        for (int i = 0; i < 2; i++)
        {
            var failure = await Assert.ThrowsAsync<HttpOperationException>(
                () => client.CustomObjects.GetNamespacedCustomObjectAsync(Widgets.Group, Widgets.Version, Ns, Widgets.Plural, "w"));
            Assert.Equal(HttpStatusCode.InternalServerError, failure.Response.StatusCode);
        }

        JsonNode read = Widgets.Node(await client.CustomObjects.GetNamespacedCustomObjectAsync(Widgets.Group, Widgets.Version, Ns, Widgets.Plural, "w"));

        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);
        Assert.Equal("Conflict", JsonNode.Parse(conflict.Response.Content)!["reason"]!.GetValue<string>());
        Assert.Equal("B", read["status"]!["phase"]!.GetValue<string>());
        Assert.Equal(2, server.CountRequests("PATCH", "/widgets/w/status"));
        Assert.Equal(3, server.CountRequests("GET", "/namespaces/team-a/widgets/w"));
    }

    [Fact]
    public async Task SetPodPhase_ReportsARealisticTerminatedContainer()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        await client.CoreV1.CreateNamespacedPodAsync(Pod("p"), Ns);

        server.SetPodPhase(Ns, "p", "Failed", exitCode: 137, reason: "OOMKilled");
        V1Pod pod = await client.CoreV1.ReadNamespacedPodAsync("p", Ns);

        Assert.Equal("Failed", pod.Status.Phase);
        V1ContainerStateTerminated terminated = pod.Status.ContainerStatuses.Single().State.Terminated;
        Assert.Equal(137, terminated.ExitCode);
        Assert.Equal("OOMKilled", terminated.Reason);
        Assert.Equal("main", pod.Status.ContainerStatuses[0].Name);
        server.SetPodPhase(Ns, "p", "Running");
        Assert.NotNull((await client.CoreV1.ReadNamespacedPodAsync("p", Ns)).Status.ContainerStatuses[0].State.Running);
    }

    [Fact]
    public async Task GenericClient_Leases_ClusterScopedNamespaces_AndDiscovery()
    {
        await using TestApiServer server = await TestApiServer.StartAsync();
        using IKubernetes client = server.CreateClient();
        using var leases = new GenericClient(client, "coordination.k8s.io", "v1", "leases", disposeClient: false);

        V1Lease lease = await leases.CreateNamespacedAsync(new V1Lease { Metadata = new V1ObjectMeta { Name = "l" }, Spec = new V1LeaseSpec { HolderIdentity = "me" } }, Ns);
        V1Lease read = await leases.ReadNamespacedAsync<V1Lease>(Ns, "l");
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "n1" } });
        V1Namespace ns = await client.CoreV1.ReadNamespaceAsync("n1");
        V1APIResourceList resources = await client.CoreV1.GetAPIResourcesAsync();
        V1APIGroupList groups = await client.Apis.GetAPIVersionsAsync();

        Assert.Equal("me", read.Spec.HolderIdentity);
        Assert.Equal(lease.Uid(), read.Uid());
        Assert.Null(ns.Namespace());
        Assert.Equal("Active", ns.Status.Phase);
        Assert.Contains(resources.Resources, r => r.Name == "pods/status");
        Assert.Contains(resources.Resources, r => r.Name == "namespaces" && !r.Namespaced);
        Assert.Contains(groups.Groups, g => g.Name == "coordination.k8s.io");
        Assert.DoesNotContain(groups.Groups, g => g.Name == Widgets.Group);
        await Widgets.InstallAsync(client);
        V1APIResourceList widgetResources = await client.CustomObjects.GetAPIResourcesAsync(Widgets.Group, Widgets.Version);
        Assert.Equal(["widgets", "widgets/status"], widgetResources.Resources.Select(r => r.Name));
        Assert.Equal(["wd"], widgetResources.Resources[0].ShortNames);
    }

    private static async Task<JsonNode> Patch(IKubernetes client, string name, string mergePatch, bool status)
    {
        var patch = new V1Patch(mergePatch, V1Patch.PatchType.MergePatch);
        object result = status
            ? await client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(patch, Widgets.Group, Widgets.Version, Ns, Widgets.Plural, name)
            : await client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, Widgets.Group, Widgets.Version, Ns, Widgets.Plural, name);
        return Widgets.Node(result);
    }

    private static V1Pod Pod(string name, params (string Key, string Value)[] labels) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels.ToDictionary(l => l.Key, l => l.Value) },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "desloc/trainer:dev" }] },
    };

    private static V1ConfigMap ConfigMap(string name, params (string Key, string Value)[] labels) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels.ToDictionary(l => l.Key, l => l.Value) },
    };

    private static T Owned<T>(T obj, JsonNode owner) where T : IMetadata<V1ObjectMeta>
    {
        obj.Metadata.OwnerReferences = [new V1OwnerReference
        {
            ApiVersion = owner["apiVersion"]!.GetValue<string>(),
            Kind = owner["kind"]!.GetValue<string>(),
            Name = owner["metadata"]!["name"]!.GetValue<string>(),
            Uid = owner["metadata"]!["uid"]!.GetValue<string>(),
        }];
        return obj;
    }

    private static T Owned<T>(T obj, V1Pod owner) where T : IMetadata<V1ObjectMeta>
    {
        obj.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Pod", Name = owner.Name(), Uid = owner.Uid() }];
        return obj;
    }
}
