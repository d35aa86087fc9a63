using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DesLoc.Contract.Validation;

/// <summary>
/// One property of a resource type as both the CRD generator and the C# validator see it: its JSON name, its type
/// with nullability resolved, and the data-annotation attributes (<see cref="RangeAttribute"/>, <see cref="AllowedValuesAttribute"/>,
/// <see cref="RequiredAttribute"/>, <see cref="MinLengthAttribute"/>, <see cref="DescriptionAttribute"/>) that say what is valid.
/// </summary>
public sealed record SchemaProperty(PropertyInfo Info, string JsonName, Type Type, bool Nullable)
{
    private static readonly NullabilityInfoContext s_nullability = new();

    public RangeAttribute? Range => Info.GetCustomAttribute<RangeAttribute>();

    /// <summary>The range as an interval, <c>[1, 1000000]</c> or <c>(0, 1)</c>, for errors and help; null without one.</summary>
    public string? RangeText => Range is { } range
        ? string.Create(CultureInfo.InvariantCulture,
            $"{(range.MinimumIsExclusive ? "(" : "[")}{Convert.ToDouble(range.Minimum, CultureInfo.InvariantCulture)}, {Convert.ToDouble(range.Maximum, CultureInfo.InvariantCulture)}{(range.MaximumIsExclusive ? ")" : "]")}")
        : null;

    public AllowedValuesAttribute? AllowedValues => Info.GetCustomAttribute<AllowedValuesAttribute>();

    public bool Required => Info.GetCustomAttribute<RequiredAttribute>() is not null;

    public int? MinLength => Info.GetCustomAttribute<MinLengthAttribute>()?.Length;

    public string? Description => Info.GetCustomAttribute<DescriptionAttribute>()?.Description
        ?? Type.GetCustomAttribute<DescriptionAttribute>()?.Description;

    /// <summary>The public, settable properties of <paramref name="type"/> in declaration order, a base type's first.</summary>
    public static IReadOnlyList<SchemaProperty> Of(Type type) =>
        [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is not null && p.GetIndexParameters().Length == 0)
            .OrderBy(p => Depth(p.DeclaringType!))
            .ThenBy(p => p.MetadataToken)
            .Select(Describe)];

    /// <summary>A record of the contract's spec, checked and described field by field (not Kubernetes' or the BCL's types).</summary>
    public static bool IsSpecType(Type type) => type.IsClass && type.Namespace == typeof(Spec.JobSpec).Namespace;

    private static int Depth(Type type)
    {
        int depth = 0;
        for (Type? t = type.BaseType; t is not null; t = t.BaseType)
        {
            depth++;
        }

        return depth;
    }

    private static SchemaProperty Describe(PropertyInfo property)
    {
        string name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name
            ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
        Type? underlying = System.Nullable.GetUnderlyingType(property.PropertyType);
        bool nullable = underlying is not null
            || (!property.PropertyType.IsValueType && s_nullability.Create(property).ReadState == NullabilityState.Nullable);
        return new SchemaProperty(property, name, underlying ?? property.PropertyType, nullable);
    }
}
