using System.Net;
using k8s.Autorest;
using KubernetesException = k8s.KubernetesException;

namespace DesLoc.Operator.Kubernetes;

/// <summary>Recognises "410 Gone" in each shape the KubernetesClient can surface it.</summary>
public static class WatchErrors
{
    /// <summary>
    /// True for a 410: <see cref="ResourceGoneException"/> (our sources' own), a <see cref="KubernetesException"/>
    /// whose Status has code 410 (the client's watch turns an ERROR event carrying a Status into one and passes it to
    /// <c>onError</c> instead of yielding it), or an <see cref="HttpOperationException"/> with status 410 (the
    /// server refused the request itself, before any stream).
    /// </summary>
    public static bool IsGone(Exception exception) => exception switch
    {
        ResourceGoneException => true,
        KubernetesException k => k.Status?.Code == (int)HttpStatusCode.Gone,
        HttpOperationException h => h.Response?.StatusCode == HttpStatusCode.Gone,
        _ => exception.InnerException is { } inner && IsGone(inner),
    };
}
