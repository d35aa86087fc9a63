using Microsoft.AspNetCore.Http;

namespace DesLoc.Testing.Kubernetes;

/// <summary>
/// An empty OpenAPI v2 document at <c>/openapi/v2</c>. kubectl (1.20 asks for the protobuf form) downloads it to
/// validate manifests and fails when it is missing; with no definitions it validates nothing and apply falls back to
/// merge patches, so plain <c>kubectl apply</c> works without <c>--validate=false</c>.
/// </summary>
internal static class OpenApi
{
    // Go's mime parser refuses the "@" that the Accept header carries.
    private const string ProtobufType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

    /// <summary>gnostic's openapi_v2.Document with only field 1, <c>swagger: "2.0"</c>.</summary>
    private static readonly byte[] s_protobuf = [0x0a, 0x03, (byte)'2', (byte)'.', (byte)'0'];

    public static Task WriteV2Async(HttpContext context)
    {
        string accept = context.Request.Headers.Accept.ToString();
        if (accept.Contains("protobuf", StringComparison.Ordinal))
        {
            context.Response.ContentType = ProtobufType;
            return context.Response.Body.WriteAsync(s_protobuf, context.RequestAborted).AsTask();
        }

        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(
            """{"swagger":"2.0","info":{"title":"DesLoc test API server","version":"v1.30.0"},"paths":{},"definitions":{}}""",
            context.RequestAborted);
    }
}
