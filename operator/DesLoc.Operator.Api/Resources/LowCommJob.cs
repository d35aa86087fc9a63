using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace DesLoc.Operator.Api.Resources;

/// <summary>
/// A low-communication training job: N trainer replicas that sync rarely, restarted one at a time when they fail.
/// The CRD in <c>crds/</c> is generated from this type (see <see cref="Schema.CrdGenerator"/>).
/// </summary>
[KubernetesEntity(Group = LowCommJob.Group, ApiVersion = LowCommJob.Version, Kind = LowCommJob.KindName, PluralName = LowCommJob.Plural)]
public sealed class LowCommJob : IKubernetesObject<V1ObjectMeta>, ISpec<LowCommJobSpec>, IStatus<LowCommJobStatus?>
{
    public const string Group = "desloc.dev";
    public const string Version = "v1alpha1";
    public const string KindName = "LowCommJob";
    public const string Plural = "lowcommjobs";
    public const string Singular = "lowcommjob";
    public const string ShortName = "lcj";
    public const string GroupVersion = Group + "/" + Version;

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = GroupVersion;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KindName;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public LowCommJobSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public LowCommJobStatus? Status { get; set; }
}
