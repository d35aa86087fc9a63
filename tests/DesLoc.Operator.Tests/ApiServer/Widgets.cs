using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Tests.ApiServer;

/// <summary>A small hand-written CRD (example.dev Widget: namespaced, status subresource, a short name, printer columns) for the API server tests.</summary>
internal static class Widgets
{
    public const string Group = "example.dev";
    public const string Version = "v1";
    public const string Plural = "widgets";
    public const string ApiVersion = Group + "/" + Version;

    public const string CrdYaml = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.example.dev
        spec:
          group: example.dev
          scope: Namespaced
          names:
            plural: widgets
            singular: widget
            kind: Widget
            shortNames: [wd]
          versions:
            - name: v1
              served: true
              storage: true
              subresources:
                status: {}
              additionalPrinterColumns:
                - name: Phase
                  type: string
                  jsonPath: .status.phase
                - name: Size
                  type: integer
                  jsonPath: .spec.size
                - name: Age
                  type: date
                  jsonPath: .metadata.creationTimestamp
              schema:
                openAPIV3Schema:
                  type: object
                  properties:
                    spec:
                      type: object
                      properties:
                        size:
                          type: integer
                          minimum: 1
                    status:
                      type: object
                      properties:
                        phase:
                          type: string
        """;

    public static async Task InstallAsync(IKubernetes client)
    {
        var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(CrdYaml);
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
    }

    public static JsonObject New(string name, int size, IDictionary<string, string>? labels = null)
    {
        var metadata = new JsonObject { ["name"] = name };
        if (labels is not null)
        {
            metadata["labels"] = new JsonObject([.. labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))]);
        }

        return new JsonObject
        {
            ["apiVersion"] = ApiVersion,
            ["kind"] = "Widget",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject { ["size"] = size },
        };
    }

    /// <summary>The custom-objects API hands back JsonElement; tests read it as nodes.</summary>
    public static JsonNode Node(object result) => JsonNode.Parse(KubernetesJson.Serialize(result))!;
}
