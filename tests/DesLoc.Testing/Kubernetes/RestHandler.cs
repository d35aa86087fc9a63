using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// Routes every request: discovery documents, then resource paths
/// (<c>/api/v1[/namespaces/NS]/PLURAL[/NAME[/status]]</c> and the same under <c>/apis/GROUP/VERSION</c>)
/// to the store, and watches to a chunked stream of newline-delimited events.
/// </summary>
internal sealed class RestHandler(ResourceCatalog catalog, ResourceStore store, FaultInjector faults, TestApiServerOptions options)
{
    /// <summary>HOST:PORT, for <c>/api</c>'s serverAddressByClientCIDRs.</summary>
    public string ServerAddress { get; set; } = "127.0.0.1";

    public async Task HandleAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        string target = request.Path.Value + Uri.UnescapeDataString(request.QueryString.Value ?? "");
        faults.Record(request.Method, target);
        try
        {
            if (faults.Take(request.Method, target) is int injected)
            {
                await WriteAsync(context, injected, ApiErrors.ForCode(injected, $"injected failure ({injected}) for {request.Method} {target}"));
                return;
            }

            await RouteAsync(context, request.Path.Value!.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries));
        }
        catch (ApiException e)
        {
            await WriteAsync(context, e.Code, e.Status);
        }
    }

    private async Task RouteAsync(HttpContext context, string[] segments)
    {
        JsonObject? document = segments switch
        {
            ["version"] => Discovery.Version(),
            ["api"] => Discovery.CoreVersions(ServerAddress),
            ["api", "v1"] => Discovery.Resources(catalog, "", "v1"),
            ["apis"] => Discovery.GroupList(catalog),
            ["apis", string g] => Discovery.Group(catalog, g),
            ["apis", string g, string v] => Discovery.Resources(catalog, g, v),
            _ => null,
        };
        if (document is not null)
        {
            await WriteAsync(context, 200, document);
            return;
        }

        if (segments is ["openapi", "v2"])
        {
            await OpenApi.WriteV2Async(context);
            return;
        }

        (string group, string version, string[] rest) = segments switch
        {
            ["api", "v1", .. string[] tail] when tail.Length > 0 => ("", "v1", tail),
            ["apis", string g, string v, .. string[] tail] when tail.Length > 0 => (g, v, tail),
            _ => throw ApiErrors.PathNotFound(),
        };

        // namespaces/NS/PLURAL[/NAME[/status]] is namespaced; namespaces[/NAME[/status]] is the Namespace resource itself.
        (string? ns, string plural, string? name, bool status) = rest switch
        {
            ["namespaces", string n, string p] when p != "status" => (n, p, null, false),
            ["namespaces", string n, string p, string o] => (n, p, o, false),
            ["namespaces", string n, string p, string o, "status"] => (n, p, o, true),
            [string p] => ((string?)null, p, (string?)null, false),
            [string p, string o] => (null, p, o, false),
            [string p, string o, "status"] => (null, p, o, true),
            _ => throw ApiErrors.PathNotFound(),
        };

        ResourceType type = catalog.Find(group, version, plural) ?? throw ApiErrors.PathNotFound();
        if ((ns is not null && !type.Namespaced) || (name is not null && ns is null && type.Namespaced) || (status && !type.HasStatus))
        {
            throw ApiErrors.PathNotFound();
        }

        string scope = ns ?? "";
        string method = context.Request.Method;
        if (name is null)
        {
            await (method switch
            {
                "GET" when IsWatch(context.Request) => WatchAsync(context, type, ns),
                "GET" => ListAsync(context, type, ns),
                "POST" when type.Namespaced && ns is null => throw ApiErrors.MethodNotAllowed($"POST is not supported on {type.QualifiedResource} across namespaces"),
                "POST" => WriteAsync(context, 201, store.Create(type, scope, await ReadObjectAsync(context))),
                "DELETE" => DeleteCollectionAsync(context, type, ns),
                _ => throw ApiErrors.MethodNotAllowed($"{method} is not supported on a collection"),
            });
            return;
        }

        JsonObject result = method switch
        {
            "GET" => store.Get(type, scope, name),
            "PUT" => store.Replace(type, scope, name, await ReadObjectAsync(context), status),
            "PATCH" => store.Patch(type, scope, name, context.Request.ContentType ?? "", await ReadBodyAsync(context), status),
            "DELETE" when !status => store.Delete(type, scope, name),
            _ => throw ApiErrors.MethodNotAllowed($"{method} is not supported here"),
        };
        if (method == "GET" && TableConverter.Wanted(context.Request.Headers.Accept))
        {
            result = TableConverter.Convert(type, 0, [result]);
        }

        await WriteAsync(context, 200, result);
    }

    private async Task ListAsync(HttpContext context, ResourceType type, string? ns)
    {
        (long resourceVersion, List<JsonObject> items) = store.List(type, ns, Labels(context.Request), Fields(context.Request));
        if (TableConverter.Wanted(context.Request.Headers.Accept))
        {
            await WriteAsync(context, 200, TableConverter.Convert(type, resourceVersion, items));
            return;
        }

        await WriteAsync(context, 200, new JsonObject
        {
            ["kind"] = type.ListKind,
            ["apiVersion"] = type.ApiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) },
            ["items"] = new JsonArray([.. items.Select(i => (JsonNode)i)]),
        });
    }

    private async Task DeleteCollectionAsync(HttpContext context, ResourceType type, string? ns)
    {
        (_, List<JsonObject> items) = store.List(type, ns, Labels(context.Request), Fields(context.Request));
        var deleted = new JsonArray();
        foreach (JsonObject item in items)
        {
            deleted.Add(store.Delete(type, item["metadata"]?["namespace"]?.GetValue<string>() ?? "", item["metadata"]!["name"]!.GetValue<string>()));
        }

        await WriteAsync(context, 200, new JsonObject { ["kind"] = type.ListKind, ["apiVersion"] = type.ApiVersion, ["metadata"] = new JsonObject(), ["items"] = deleted });
    }

    /// <summary>
    /// A watch: 200 with a chunked body of one JSON event per line, until <c>timeoutSeconds</c> (a clean end), the
    /// client going away, or <see cref="TestApiServer.DropWatches"/> (the connection is aborted). A resourceVersion
    /// older than the history gets one ERROR event with a 410 Expired Status, as the apiserver sends it.
    /// </summary>
    private async Task WatchAsync(HttpContext context, ResourceType type, string? ns)
    {
        HttpRequest request = context.Request;
        string? fromText = request.Query["resourceVersion"];
        long? from = null;
        if (!string.IsNullOrEmpty(fromText))
        {
            from = long.TryParse(fromText, NumberStyles.None, CultureInfo.InvariantCulture, out long parsed)
                ? parsed
                : throw ApiErrors.BadRequest($"invalid resourceVersion \"{fromText}\"");
        }

        using WatchSubscription subscription = store.Watch(type, ns, Labels(request), Fields(request), from);
        bool dropped;
        try
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.StartAsync(context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);

            using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, subscription.Dropped);
            if (int.TryParse(request.Query["timeoutSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out int timeoutSeconds) && timeoutSeconds > 0)
            {
                ending.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
            }

            Task bookmarks = IsTrue(request.Query["allowWatchBookmarks"]) ? BookmarkAsync(subscription, ending.Token) : Task.CompletedTask;
            try
            {
                await foreach (string line in subscription.Lines.Reader.ReadAllAsync(ending.Token))
                {
                    await context.Response.WriteAsync(line + "\n", ending.Token);
                    await context.Response.Body.FlushAsync(ending.Token);
                }
            }
            catch (OperationCanceledException) when (ending.IsCancellationRequested)
            {
                // Timed out, the client left, or the watch was dropped: the stream just ends.
            }

            await ending.CancelAsync();
            await bookmarks;
        }
        finally
        {
            store.Unwatch(subscription);
            dropped = subscription.Dropped.IsCancellationRequested;
        }

        if (dropped)
        {
            context.Abort();
        }
    }

    private async Task BookmarkAsync(WatchSubscription subscription, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.BookmarkInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                store.Bookmark(subscription);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static bool IsWatch(HttpRequest request) => IsTrue(request.Query["watch"]);

    private static bool IsTrue(string? value) => value is "true" or "1" or "True";

    private static LabelSelector Labels(HttpRequest request)
    {
        try
        {
            return LabelSelector.Parse(request.Query["labelSelector"]);
        }
        catch (FormatException e)
        {
            throw ApiErrors.BadRequest(e.Message);
        }
    }

    private static FieldSelector Fields(HttpRequest request)
    {
        try
        {
            return FieldSelector.Parse(request.Query["fieldSelector"]);
        }
        catch (FormatException e)
        {
            throw ApiErrors.BadRequest(e.Message);
        }
    }

    private static async Task<string> ReadBodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        return await reader.ReadToEndAsync(context.RequestAborted);
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context)
    {
        string body = await ReadBodyAsync(context);
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw ApiErrors.BadRequest("the request body must be a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw ApiErrors.BadRequest($"the request body is not JSON: {e.Message}");
        }
    }

    private static Task WriteAsync(HttpContext context, int code, JsonObject body)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
