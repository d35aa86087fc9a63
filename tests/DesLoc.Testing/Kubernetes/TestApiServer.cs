using System.Net;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// An in-memory Kubernetes API server on <c>http://127.0.0.1:PORT</c> for tests and benchmarks: the real
/// KubernetesClient and kubectl talk to it over HTTP. It serves discovery, CRUD with the apiserver's bookkeeping,
/// patches, watches with bookmarks and 410 Gone, CRDs created through the API, and Tables for <c>kubectl get</c>;
/// tests inject faults and read or set objects directly. Not supported: authentication, admission, protobuf,
/// server-side apply, dry run, pagination (<c>limit</c>/<c>continue</c> are ignored), list-merge by key in strategic
/// merge patches, real OpenAPI documents (<c>/openapi/v2</c> is empty, so kubectl validates nothing client-side),
/// conversion between CRD versions, namespace deletion emptying the namespace.
/// </summary>
public sealed class TestApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ResourceCatalog _catalog;
    private readonly ResourceStore _store;
    private readonly FaultInjector _faults;

    private TestApiServer(WebApplication app, ResourceCatalog catalog, ResourceStore store, FaultInjector faults, Uri baseAddress)
    {
        _app = app;
        _catalog = catalog;
        _store = store;
        _faults = faults;
        BaseAddress = baseAddress;
    }

    /// <summary><c>http://127.0.0.1:PORT/</c>: pass it to kubectl as <c>--server</c>.</summary>
    public Uri BaseAddress { get; }

    public static async Task<TestApiServer> StartAsync(TestApiServerOptions? options = null)
    {
        options ??= new TestApiServerOptions();
        var catalog = new ResourceCatalog();
        var store = new ResourceStore(catalog, options);
        var faults = new FaultInjector();

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1));
        WebApplication app = builder.Build();
        var handler = new RestHandler(catalog, store, faults, options);
        app.Run(handler.HandleAsync);
        await app.StartAsync();

        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var baseAddress = new Uri(address.TrimEnd('/') + "/");
        handler.ServerAddress = baseAddress.Authority;
        return new TestApiServer(app, catalog, store, faults, baseAddress);
    }

    /// <summary>A real client for this server: no kubeconfig, no TLS, no credentials.</summary>
    public IKubernetes CreateClient() =>
        new k8s.Kubernetes(new KubernetesClientConfiguration { Host = BaseAddress.ToString().TrimEnd('/') });

    /// <summary>Ends every open watch abruptly (the connection is aborted), as an apiserver restart would.</summary>
    public void DropWatches() => _store.DropWatches();

    /// <summary>Forgets the event history: a watch from any resourceVersion older than the current one gets 410.</summary>
    public void CompactHistory() => _store.CompactHistory();

    /// <summary>
    /// Fails the next <paramref name="times"/> requests whose method is <paramref name="method"/> and whose
    /// <c>path?query</c> contains <paramref name="pathContains"/> with a Status of <paramref name="statusCode"/>
    /// (409 reads as Conflict, 500 as InternalError, ...), before anything is stored.
    /// </summary>
    public void FailNext(string method, string pathContains, int statusCode, int times = 1) =>
        _faults.FailNext(method, pathContains, statusCode, times);

    /// <summary>How many requests (failed ones included) matched <paramref name="method"/> and <paramref name="pathContains"/>.</summary>
    public int CountRequests(string method, string pathContains) => _faults.Count(method, pathContains);

    /// <summary>A copy of the stored object, or null. <paramref name="apiVersion"/> is <c>v1</c> or <c>GROUP/VERSION</c>.</summary>
    public JsonNode? Get(string apiVersion, string plural, string? ns, string name)
    {
        try
        {
            return _store.Get(Type(apiVersion, plural), ns ?? "", name);
        }
        catch (ApiException e) when (e.Code == 404)
        {
            return null;
        }
    }

    /// <summary>Copies of the stored objects of a resource, in one namespace or (null) all of them.</summary>
    public IReadOnlyList<JsonNode> List(string apiVersion, string plural, string? ns = null) =>
        _store.List(Type(apiVersion, plural), ns, LabelSelector.Everything, FieldSelector.Everything).Items;

    /// <summary>
    /// Sets a pod's status as a kubelet would report it: <c>Pending</c> (waiting), <c>Running</c> (running, ready),
    /// <c>Succeeded</c> or <c>Failed</c> (terminated with <paramref name="exitCode"/>, default 0 or 1, and
    /// <paramref name="reason"/>, default Completed or Error). Watches see a MODIFIED event.
    /// </summary>
    /// <exception cref="InvalidOperationException">No such pod.</exception>
    public JsonNode SetPodPhase(string ns, string name, string phase, int? exitCode = null, string? reason = null)
    {
        try
        {
            return _store.MutateStatus(Type("v1", "pods"), ns, name, pod => PodStatuses.Apply(pod, phase, exitCode, reason));
        }
        catch (ApiException e)
        {
            throw new InvalidOperationException(e.Message, e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _store.DropWatches();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private ResourceType Type(string apiVersion, string plural)
    {
        int slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        (string group, string version) = slash < 0 ? ("", apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
        return _catalog.Find(group, version, plural) ?? throw new ArgumentException($"{plural} in {apiVersion} is not served", nameof(plural));
    }
}
