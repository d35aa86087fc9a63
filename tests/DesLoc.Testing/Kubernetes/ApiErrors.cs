using System.Text.Json.Nodes;

namespace DesLoc.Testing.Kubernetes;

/// <summary>A request the server refuses: carries the <c>Status</c> object written as the response body.</summary>
internal sealed class ApiException(int code, JsonObject status) : Exception(status["message"]?.GetValue<string>())
{
    public int Code { get; } = code;

    public JsonObject Status { get; } = status;
}

/// <summary>
/// <c>Status</c> objects worded as kube-apiserver words them, so clients and kubectl print what they would print
/// against a real cluster.
/// </summary>
internal static class ApiErrors
{
    public static ApiException NotFound(ResourceType type, string name) =>
        Failure(404, "NotFound", $"{type.QualifiedResource} \"{name}\" not found", Details(type, name, type.Plural));

    public static ApiException AlreadyExists(ResourceType type, string name) =>
        Failure(409, "AlreadyExists", $"{type.QualifiedResource} \"{name}\" already exists", Details(type, name, type.Plural));

    /// <summary>403 as an admission plugin answers: <c>pods "x" is forbidden: ...</c>.</summary>
    public static ApiException Forbidden(ResourceType type, string name, string reason) =>
        Failure(403, "Forbidden", $"{type.QualifiedResource} \"{name}\" is forbidden: {reason}", Details(type, name, type.Plural));

    public static ApiException Conflict(ResourceType type, string name) =>
        Failure(
            409,
            "Conflict",
            $"Operation cannot be fulfilled on {type.QualifiedResource} \"{name}\": the object has been modified; " +
            "please apply your changes to the latest version and try again",
            Details(type, name, type.Plural));

    /// <summary>422 with one cause per violation; the message lists them as the apiserver's aggregate error does.</summary>
    public static ApiException Invalid(ResourceType type, string name, IReadOnlyList<FieldViolation> violations)
    {
        string listed = violations.Count == 1
            ? violations[0].ToString()
            : "[" + string.Join(", ", violations) + "]";
        JsonObject details = Details(type, name, type.Kind);
        var causes = new JsonArray();
        foreach (FieldViolation violation in violations)
        {
            causes.Add(new JsonObject { ["reason"] = "FieldValueInvalid", ["message"] = violation.Message, ["field"] = violation.Field });
        }

        details["causes"] = causes;
        string qualifiedKind = type.Group.Length == 0 ? type.Kind : $"{type.Kind}.{type.Group}";
        return Failure(422, "Invalid", $"{qualifiedKind} \"{name}\" is invalid: {listed}", details);
    }

    public static ApiException BadRequest(string message) => Failure(400, "BadRequest", message, null);

    public static ApiException MethodNotAllowed(string message) => Failure(405, "MethodNotAllowed", message, null);

    public static ApiException UnsupportedMediaType(string contentType) =>
        Failure(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: " +
            $"application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {contentType})", null);

    public static ApiException PathNotFound() => Failure(404, "NotFound", "the server could not find the requested resource", null);

    /// <summary>What a watch (or list) from a compacted resourceVersion gets, as the ERROR event's object.</summary>
    public static JsonObject Expired(long requested, long oldest) =>
        Status(410, "Expired", $"too old resource version: {requested} ({oldest})", null);

    /// <summary>An injected failure: the reason the apiserver pairs with the code.</summary>
    public static JsonObject ForCode(int code, string message) => Status(code, ReasonFor(code), message, null);

    public static JsonObject Status(int code, string reason, string message, JsonObject? details)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
        };
        if (details is not null)
        {
            status["details"] = details;
        }

        status["code"] = code;
        return status;
    }

    private static ApiException Failure(int code, string reason, string message, JsonObject? details) =>
        new(code, Status(code, reason, message, details));

    private static JsonObject Details(ResourceType type, string name, string kind)
    {
        var details = new JsonObject { ["name"] = name };
        if (type.Group.Length > 0)
        {
            details["group"] = type.Group;
        }

        details["kind"] = kind;
        return details;
    }

    private static string ReasonFor(int code) => code switch
    {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        410 => "Gone",
        422 => "Invalid",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "InternalError",
    };
}
