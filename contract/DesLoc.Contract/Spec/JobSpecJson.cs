using System.Text.Json;
using System.Text.Json.Serialization;

namespace DesLoc.Contract.Spec;

/// <summary>
/// The spec as JSON, the form the operator hands the trainer in <c>DESLOC_CONFIG</c>: camelCase as in the manifest,
/// unknown fields refused (a misspelt field is an error, not a default), nulls left out.
/// </summary>
public static class JobSpecJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>The trainer's fields of <paramref name="spec"/> only, whatever record extends it.</summary>
    public static string Serialize(JobSpec spec) => JsonSerializer.Serialize(spec, Options);
}
