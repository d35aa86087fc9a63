using System.Text.Json.Nodes;
using DesLoc.Testing.Kubernetes;
using DesLoc.Testing.Kubernetes.Validation;

namespace DesLoc.Operator.Tests.Validation;

/// <summary>A hand-written CRD-like openAPIV3Schema with the operator's kinds of cross-field CEL rules.</summary>
internal static class DeslocJobSchema
{
    public static JsonNode Create() => JsonNode.Parse("""
        {
          "type": "object",
          "properties": {
            "spec": {
              "type": "object",
              "required": ["replicas", "template"],
              "x-kubernetes-validations": [
                {"rule": "!has(self.minReplicas) || self.minReplicas <= self.replicas", "message": "minReplicas must not exceed replicas", "fieldPath": ".minReplicas"},
                {"rule": "self.template.spec.containers.exists(c, c.name == 'trainer')", "message": "a container named trainer is required", "fieldPath": ".template"}
              ],
              "properties": {
                "replicas": {"type": "integer", "minimum": 1},
                "minReplicas": {"type": "integer", "minimum": 1},
                "algorithm": {
                  "type": "object",
                  "default": {},
                  "properties": {
                    "name": {
                      "type": "string", "enum": ["DDP", "LocalAdam", "DesLoc"], "default": "DesLoc",
                      "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "algorithm is immutable"}]
                    },
                    "desloc": {
                      "type": "object",
                      "default": {},
                      "x-kubernetes-validations": [{"rule": "self.ku % self.kx == 0", "message": "ku must be a multiple of kx", "fieldPath": ".ku"}],
                      "properties": {
                        "kx": {"type": "integer", "minimum": 1, "default": 4},
                        "ku": {"type": "integer", "minimum": 1, "default": 8}
                      }
                    },
                    "compression": {
                      "type": "object",
                      "x-kubernetes-validations": [{"rule": "self.topK <= self.chunk"}],
                      "properties": {
                        "topK": {"type": "integer", "default": 32},
                        "chunk": {"type": "integer", "default": 1024}
                      }
                    }
                  }
                },
                "template": {
                  "type": "object",
                  "properties": {
                    "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "spec": {
                      "type": "object",
                      "x-kubernetes-preserve-unknown-fields": true,
                      "properties": {
                        "containers": {
                          "type": "array",
                          "items": {
                            "type": "object", "required": ["name"],
                            "properties": {
                              "name": {"type": "string"},
                              "image": {"type": "string"},
                              "ports": {"type": "array", "items": {"type": "object", "properties": {"containerPort": {"type": "integer"}, "protocol": {"type": "string", "default": "TCP"}}}}
                            }
                          }
                        }
                      }
                    }
                  }
                }
              }
            },
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
          }
        }
        """)!;

    /// <summary>A valid manifest as a user writes it: defaults not yet applied.</summary>
    public static JsonNode Manifest() => JsonNode.Parse("""
        {
          "apiVersion": "desloc.io/v1alpha1",
          "kind": "DeslocJob",
          "metadata": {"name": "job", "namespace": "default"},
          "spec": {
            "replicas": 4,
            "minReplicas": 2,
            "algorithm": {"desloc": {"kx": 4, "ku": 12}},
            "template": {"spec": {"containers": [{"name": "trainer", "image": "desloc:dev", "ports": [{"containerPort": 5000}]}]}}
          }
        }
        """)!;

    /// <summary>What the apiserver stores for a manifest: pruned, defaulted, then validated.</summary>
    public static IReadOnlyList<FieldViolation> Admit(JsonNode manifest, JsonNode? old = null)
    {
        JsonNode schema = Create();
        StructuralSchema.Prune(manifest, schema);
        StructuralSchema.ApplyDefaults(manifest, schema);
        return StructuralSchema.Validate(manifest, schema, old);
    }
}
