using System.Collections;
using System.Globalization;
using DesLoc.Contract.Spec;

namespace DesLoc.Contract.Validation;

/// <summary>One thing wrong with a spec: the field by its path from the object root, and what to fix.</summary>
public sealed record SpecError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>
/// The one validator of a job spec, the CRD's checks in C#: the trainer runs it before it trains, <c>run FILE</c>
/// before it starts anything, the reconciler as a second line behind the API server. Ranges, allowed values and
/// required fields come from the same attributes the CRD generator reads; then the cross-field rules, which run only
/// when every field is valid on its own, as the API server runs CEL.
/// </summary>
public static class JobSpecValidation
{
    /// <summary>The errors of a spec the trainer reads; empty when it is valid.</summary>
    public static IReadOnlyList<SpecError> Validate(JobSpec spec) => Validate(spec, CrossFieldRules.All);

    /// <summary>The errors of a spec that extends <see cref="JobSpec"/>, with the rules of its own fields.</summary>
    public static IReadOnlyList<SpecError> Validate<TSpec>(TSpec spec, IEnumerable<CrossFieldRule<TSpec>> rules)
        where TSpec : JobSpec
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<SpecError>();
        CheckObject(spec, "spec", errors);
        if (errors.Count == 0)
        {
            errors.AddRange(rules.Where(rule => !rule.Holds(spec)).Select(rule => new SpecError(rule.Field, rule.Message)));
        }

        return errors;
    }

    private static void CheckObject(object value, string path, List<SpecError> errors)
    {
        foreach (SchemaProperty property in SchemaProperty.Of(value.GetType()))
        {
            string field = $"{path}.{property.JsonName}";
            object? child = property.Info.GetValue(value);
            if (child is null)
            {
                if (property.Required)
                {
                    errors.Add(new SpecError(field, "Required value"));
                }

                continue;
            }

            CheckValue(property, child, field, errors);
        }
    }

    private static void CheckValue(SchemaProperty property, object value, string field, List<SpecError> errors)
    {
        if (property.Range is { } range && value is int or long or double)
        {
            double number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
            double min = Convert.ToDouble(range.Minimum, CultureInfo.InvariantCulture);
            double max = Convert.ToDouble(range.Maximum, CultureInfo.InvariantCulture);
            bool aboveMin = range.MinimumIsExclusive ? number > min : number >= min;
            bool belowMax = range.MaximumIsExclusive ? number < max : number <= max;
            if (!aboveMin || !belowMax)
            {
                errors.Add(new SpecError(field, string.Create(CultureInfo.InvariantCulture, $"must be in {property.RangeText} (got {number})")));
            }
        }

        if (property.AllowedValues is { } allowed && !allowed.Values.Contains(value))
        {
            errors.Add(new SpecError(field, $"must be one of {string.Join(", ", allowed.Values)} (got {value})"));
        }

        if (property.MinLength is { } minLength && Length(value) < minLength)
        {
            errors.Add(new SpecError(field, $"must have at least {minLength} {(value is string ? "characters" : "items")}"));
        }

        if (IsResourceRecord(value))
        {
            CheckObject(value, field, errors);
        }
        else if (value is IEnumerable items and not string)
        {
            int index = 0;
            foreach (object? item in items)
            {
                if (item is not null && IsResourceRecord(item))
                {
                    CheckObject(item, $"{field}[{index}]", errors);
                }

                index++;
            }
        }
    }

    private static int Length(object value) => value switch
    {
        string s => s.Length,
        ICollection c => c.Count,
        _ => int.MaxValue,
    };

    /// <summary>Spec records are checked field by field; Kubernetes' types (the pod template, a volume) are the API server's business.</summary>
    private static bool IsResourceRecord(object value) =>
        SchemaProperty.IsSpecType(value.GetType());
}
