using DesLoc.Contract.Validation;
using System.Text.Json.Nodes;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Api.Schema;
using DesLoc.Operator.Api.Validation;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Local;

/// <summary>A manifest that cannot run, with every reason (field path: what to fix).</summary>
public sealed class ManifestException(string message) : Exception(message);

/// <summary>
/// Reads a LowCommJob manifest for `run FILE` the way the API server would check it: YAML to JSON, fields the CRD
/// does not know are refused (a typo must not be ignored silently), then the CRD's ranges and CEL rules in C#.
/// </summary>
public static class ManifestLoader
{
    public static LowCommJob Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ManifestException($"No manifest at '{path}'.");
        }

        return Parse(File.ReadAllText(path), path);
    }

    public static LowCommJob Parse(string yaml, string source)
    {
        JsonNode? document;
        try
        {
            IReadOnlyList<JsonNode?> documents = YamlJson.Documents(yaml);
            document = documents.Count == 1
                ? documents[0]
                : throw new ManifestException($"{source}: expected one YAML document with a LowCommJob, found {documents.Count}.");
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new ManifestException($"{source}: not valid YAML: {e.Message}");
        }

        if (document is not JsonObject root || root["kind"]?.GetValue<string>() != LowCommJob.KindName || root["apiVersion"]?.GetValue<string>() != LowCommJob.GroupVersion)
        {
            throw new ManifestException($"{source}: expected apiVersion {LowCommJob.GroupVersion} and kind {LowCommJob.KindName}.");
        }

        V1JSONSchemaProps schema = CrdGenerator.LowCommJobDefinition().Spec.Versions[0].Schema.OpenAPIV3Schema;
        var errors = new List<string>();
        UnknownFields(root["spec"], schema.Properties["spec"], "spec", errors);
        if (errors.Count > 0)
        {
            throw new ManifestException($"{source} is not a valid LowCommJob:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", errors)}");
        }

        LowCommJob job;
        try
        {
            job = KubernetesJson.Deserialize<LowCommJob>(root.ToJsonString());
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ManifestException($"{source} is not a valid LowCommJob: {e.Path?.TrimStart('$', '.')}: {e.Message}");
        }

        if (string.IsNullOrEmpty(job.Metadata?.Name))
        {
            throw new ManifestException($"{source}: metadata.name is required.");
        }

        // On one machine every worker is a process here: the machine's memory (or this process's cgroup limit) counts.
        IReadOnlyList<SpecError> invalid = [.. LowCommJobValidation.Validate(job.Spec)];
        if (invalid.Count == 0 && MemoryFit.OnMachine(job.Spec, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes) is { } tooLarge)
        {
            invalid = [tooLarge];
        }

        return invalid.Count == 0
            ? job
            : throw new ManifestException($"{source} is not a valid LowCommJob:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", invalid)}");
    }

    private static void UnknownFields(JsonNode? node, V1JSONSchemaProps schema, string path, List<string> errors)
    {
        if (node is JsonObject obj && schema.Properties is { } properties && schema.XKubernetesPreserveUnknownFields != true)
        {
            foreach ((string key, JsonNode? child) in obj)
            {
                if (properties.TryGetValue(key, out V1JSONSchemaProps? childSchema))
                {
                    UnknownFields(child, childSchema, $"{path}.{key}", errors);
                }
                else
                {
                    errors.Add($"{path}.{key}: unknown field (known: {string.Join(", ", properties.Keys)})");
                }
            }
        }
        else if (node is JsonArray array && schema.Items is V1JSONSchemaProps items)
        {
            for (int i = 0; i < array.Count; i++)
            {
                UnknownFields(array[i], items, $"{path}[{i}]", errors);
            }
        }
    }
}
