using DesLoc.Contract.Validation;
using DesLoc.Operator.Api.Resources;

namespace DesLoc.Operator.Api.Validation;

/// <summary>
/// The contract's one validator over a LowCommJob spec: the trainer's rules, plus the rules of the operator's own
/// fields (the pod template has a trainer container; placement has an entry per replica at most). The CRD carries the same rules as CEL.
/// </summary>
public static class LowCommJobValidation
{
    public static IReadOnlyList<CrossFieldRule<LowCommJobSpec>> Rules { get; } =
    [
        .. CrossFieldRules.All.Select(rule => rule.For<LowCommJobSpec>()),
        new("spec", "has(self.template.spec) && self.template.spec.containers.exists(c, c.name == 'trainer')", ".template.spec.containers",
            "the pod template must have a container named 'trainer'",
            s => s.Template.Spec?.Containers?.Any(c => c.Name == "trainer") == true),
        new("spec", "!has(self.placement) || !has(self.placement.replicas) || size(self.placement.replicas) <= self.replicas", ".placement.replicas",
            "placement.replicas must not have more entries than replicas (entry i places replica i)",
            s => s.Placement?.Replicas is not { } entries || entries.Count <= s.Replicas),
    ];

    public static IReadOnlyList<SpecError> Validate(LowCommJobSpec spec) => JobSpecValidation.Validate(spec, Rules);
}
