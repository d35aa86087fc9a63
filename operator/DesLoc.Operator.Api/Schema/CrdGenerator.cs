using System.Collections;
using System.Globalization;
using System.Text.Json.Nodes;
using DesLoc.Contract.Validation;
using DesLoc.Operator.Api.Resources;
using DesLoc.Operator.Api.Validation;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Api.Schema;

/// <summary>
/// Writes the LowCommJob CRD from the C# types: a structural OpenAPI schema (types, defaults from the property
/// initializers, enums and ranges from data annotations), the CEL rules of <see cref="LowCommJobValidation.Rules"/>,
/// the status subresource and the printer columns. <c>crds/</c> holds its output; a test fails when the two drift apart.
/// </summary>
public static class CrdGenerator
{
    public const string FileName = "desloc.dev_lowcommjobs.yaml";

    public static V1CustomResourceDefinition LowCommJobDefinition()
    {
        var spec = ObjectSchema(typeof(LowCommJobSpec), "spec", withDefaults: true);
        var status = ObjectSchema(typeof(LowCommJobStatus), "status", withDefaults: false);
        var root = new V1JSONSchemaProps
        {
            Type = "object",
            Description = "A low-communication training job: replicas that sync rarely, restarted one at a time.",
            Properties = new Dictionary<string, V1JSONSchemaProps>
            {
                ["apiVersion"] = new() { Type = "string" },
                ["kind"] = new() { Type = "string" },
                ["metadata"] = new() { Type = "object" },
                ["spec"] = spec,
                ["status"] = status,
            },
            Required = ["spec"],
        };
        return new V1CustomResourceDefinition
        {
            ApiVersion = "apiextensions.k8s.io/v1",
            Kind = "CustomResourceDefinition",
            Metadata = new V1ObjectMeta { Name = $"{LowCommJob.Plural}.{LowCommJob.Group}" },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = LowCommJob.Group,
                Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames
                {
                    Kind = LowCommJob.KindName,
                    ListKind = LowCommJob.KindName + "List",
                    Plural = LowCommJob.Plural,
                    Singular = LowCommJob.Singular,
                    ShortNames = [LowCommJob.ShortName],
                    Categories = ["desloc"],
                },
                Versions =
                [
                    new V1CustomResourceDefinitionVersion
                    {
                        Name = LowCommJob.Version,
                        Served = true,
                        Storage = true,
                        Schema = new V1CustomResourceValidation { OpenAPIV3Schema = root },
                        Subresources = new V1CustomResourceSubresources { Status = new object() },
                        AdditionalPrinterColumns = PrinterColumns(),
                    },
                ],
            },
        };
    }

    /// <summary>The CRD as the YAML file kept in <c>crds/</c> and in the chart.</summary>
    public static string LowCommJobYaml() =>
        "# Generated from operator/DesLoc.Operator.Api by `desloc-operator crd`; do not edit by hand.\n"
        + KubernetesYaml.Serialize(LowCommJobDefinition());

    private static List<V1CustomResourceColumnDefinition> PrinterColumns() =>
    [
        new() { Name = "Phase", Type = "string", JsonPath = ".status.phase" },
        new() { Name = "Ready", Type = "string", JsonPath = ".status.ready", Description = "Replicas whose every worker is ready, over replicas" },
        new() { Name = "Workers", Type = "string", JsonPath = ".status.workersReady", Description = "Ready workers over replicas x workersPerReplica" },
        new() { Name = "Step", Type = "integer", JsonPath = ".status.step" },
        new() { Name = "Loss", Type = "number", JsonPath = ".status.loss" },
        new() { Name = "Reduction", Type = "number", JsonPath = ".status.communication.reduction", Description = "Bytes DDP would have sent over bytes sent" },
        new() { Name = "Restarts", Type = "integer", JsonPath = ".status.restarts", Priority = 1 },
        new() { Name = "Age", Type = "date", JsonPath = ".metadata.creationTimestamp" },
    ];

    private static V1JSONSchemaProps ObjectSchema(Type type, string path, bool withDefaults)
    {
        object? defaults = withDefaults && type.GetConstructor(Type.EmptyTypes) is not null ? Activator.CreateInstance(type) : null;
        var properties = new Dictionary<string, V1JSONSchemaProps>();
        var required = new List<string>();
        foreach (SchemaProperty property in SchemaProperty.Of(type))
        {
            string childPath = $"{path}.{property.JsonName}";
            V1JSONSchemaProps schema = PropertySchema(property, childPath, withDefaults);
            if (defaults is not null && !property.Nullable && DefaultOf(property.Info.GetValue(defaults)) is { } value)
            {
                schema.DefaultProperty = value;
            }

            properties[property.JsonName] = schema;
            if (property.Required)
            {
                required.Add(property.JsonName);
            }
        }

        var rules = LowCommJobValidation.Rules.Where(r => r.Node == path).Select(r => new V1ValidationRule
        {
            Rule = r.Cel,
            Message = r.Message,
            FieldPath = r.FieldPath,
        }).ToList();
        return new V1JSONSchemaProps
        {
            Type = "object",
            Description = type.GetCustomAttributes(typeof(System.ComponentModel.DescriptionAttribute), false)
                .Cast<System.ComponentModel.DescriptionAttribute>().FirstOrDefault()?.Description,
            Properties = properties,
            Required = required.Count > 0 ? required : null,
            XKubernetesValidations = rules.Count > 0 ? rules : null,
        };
    }

    private static V1JSONSchemaProps PropertySchema(SchemaProperty property, string path, bool withDefaults)
    {
        V1JSONSchemaProps schema = TypeSchema(property.Type, path, withDefaults);
        schema.Description = property.Description ?? schema.Description;
        if (property.Range is { } range)
        {
            schema.Minimum = Bound(range.Minimum, property.Type);
            schema.Maximum = Bound(range.Maximum, property.Type);
            schema.ExclusiveMinimum = range.MinimumIsExclusive ? true : null;
            schema.ExclusiveMaximum = range.MaximumIsExclusive ? true : null;
        }

        if (property.AllowedValues is { } allowed)
        {
            schema.EnumProperty = [.. allowed.Values];
        }

        if (property.MinLength is { } minLength)
        {
            if (schema.Type == "array")
            {
                schema.MinItems = minLength;
            }
            else
            {
                schema.MinLength = minLength;
            }
        }

        return schema;
    }

    private static V1JSONSchemaProps TypeSchema(Type type, string path, bool withDefaults)
    {
        if (type == typeof(int) || type == typeof(long))
        {
            return new() { Type = "integer", Format = type == typeof(int) ? "int32" : "int64" };
        }

        if (type == typeof(double))
        {
            return new() { Type = "number" };
        }

        if (type == typeof(bool))
        {
            return new() { Type = "boolean" };
        }

        if (type == typeof(string))
        {
            return new() { Type = "string" };
        }

        if (type == typeof(DateTime))
        {
            return new() { Type = "string", Format = "date-time" };
        }

        if (type.IsEnum)
        {
            return new() { Type = "string", EnumProperty = [.. Enum.GetNames(type)] };
        }

        if (type == typeof(V1PodTemplateSpec))
        {
            return PodTemplateSchema();
        }

        if (type == typeof(JsonObject))
        {
            // Kubernetes' own types (a volume) are checked by the API server when the pod is created.
            return new() { Type = "object", XKubernetesPreserveUnknownFields = true };
        }

        if (type == typeof(V1Condition))
        {
            return ConditionSchema();
        }

        if (type == typeof(V1Toleration))
        {
            return TolerationSchema();
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
        {
            return new() { Type = "object", AdditionalProperties = TypeSchema(type.GetGenericArguments()[1], path + "[*]", withDefaults) };
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            return new() { Type = "array", Items = TypeSchema(type.GetGenericArguments()[0], path + "[*]", withDefaults) };
        }

        return ObjectSchema(type, path, withDefaults);
    }

    /// <summary>A pod template is kept open (the API server checks pods when they are created) except for what DesLoc needs: containers with names.</summary>
    private static V1JSONSchemaProps PodTemplateSchema() => new()
    {
        Type = "object",
        Properties = new Dictionary<string, V1JSONSchemaProps>
        {
            ["metadata"] = new() { Type = "object", XKubernetesPreserveUnknownFields = true },
            ["spec"] = new()
            {
                Type = "object",
                XKubernetesPreserveUnknownFields = true,
                Required = ["containers"],
                Properties = new Dictionary<string, V1JSONSchemaProps>
                {
                    ["containers"] = new()
                    {
                        Type = "array",
                        MinItems = 1,
                        MaxItems = 64, // bounds the cost of the CEL rule that looks for the trainer container
                        Items = new V1JSONSchemaProps
                        {
                            Type = "object",
                            XKubernetesPreserveUnknownFields = true,
                            Required = ["name"],
                            Properties = new Dictionary<string, V1JSONSchemaProps> { ["name"] = new() { Type = "string", MinLength = 1 } },
                        },
                    },
                },
            },
        },
        Required = ["spec"],
    };

    private static V1JSONSchemaProps ConditionSchema() => new()
    {
        Type = "object",
        Required = ["type", "status"],
        Properties = new Dictionary<string, V1JSONSchemaProps>
        {
            ["type"] = new() { Type = "string" },
            ["status"] = new() { Type = "string", EnumProperty = ["True", "False", "Unknown"] },
            ["reason"] = new() { Type = "string" },
            ["message"] = new() { Type = "string" },
            ["observedGeneration"] = new() { Type = "integer", Format = "int64" },
            ["lastTransitionTime"] = new() { Type = "string", Format = "date-time" },
        },
    };

    /// <summary>core/v1 Toleration, as the API server will check it in the pod.</summary>
    private static V1JSONSchemaProps TolerationSchema() => new()
    {
        Type = "object",
        Properties = new Dictionary<string, V1JSONSchemaProps>
        {
            ["key"] = new() { Type = "string" },
            ["operator"] = new() { Type = "string", EnumProperty = ["Exists", "Equal"] },
            ["value"] = new() { Type = "string" },
            ["effect"] = new() { Type = "string", EnumProperty = ["NoSchedule", "PreferNoSchedule", "NoExecute"] },
            ["tolerationSeconds"] = new() { Type = "integer", Format = "int64" },
        },
    };

    /// <summary>A range bound as the schema writes it; the type's own limits need no bound.</summary>
    private static double? Bound(object value, Type type)
    {
        double bound = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        bool unbounded = (type == typeof(int) && (bound >= int.MaxValue || bound <= int.MinValue))
            || (type == typeof(long) && (bound >= long.MaxValue || bound <= long.MinValue));
        return unbounded ? null : bound;
    }

    /// <summary>
    /// Scalars default to their initializer; a nested object defaults to itself complete, exactly what the API server
    /// makes of <c>{}</c> with the nested defaults. Complete, because the API server checks each default against the
    /// CEL rules of its node as written, before filling anything in: a rule over <c>{}</c> fails with "no such key".
    /// </summary>
    private static object? DefaultOf(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b,
        int or long or double => value,
        Enum e => e.ToString(),
        IEnumerable => null,
        _ when SchemaProperty.IsSpecType(value.GetType()) => CompleteDefault(value),
        _ => null,
    };

    private static Dictionary<string, object> CompleteDefault(object value)
    {
        var fields = new Dictionary<string, object>();
        foreach (SchemaProperty property in SchemaProperty.Of(value.GetType()))
        {
            if (!property.Nullable && DefaultOf(property.Info.GetValue(value)) is { } field)
            {
                fields[property.JsonName] = field;
            }
        }

        return fields;
    }
}
