using System.Text;
using DesLoc.Contract.Wire;
using DesLoc.Operator.Reconciliation;
using k8s.Models;

namespace DesLoc.Operator.Trainers;

/// <summary>
/// What talking to a job's trainers takes, as the job's Secret holds it: the token every call carries and, unless the
/// job turns TLS off, the job's TLS material (the operator presents the same job certificate as the trainers do).
/// </summary>
public sealed record JobCredentials(string Token, JobTlsFiles? Tls)
{
    /// <summary>The Secret's keys, for <see cref="DesiredObjects.Secret"/> and for a Secret recreated with the same credentials.</summary>
    public IEnumerable<KeyValuePair<string, byte[]>> SecretData()
    {
        yield return new(JobNames.TokenKey, Encoding.UTF8.GetBytes(Token));
        if (Tls is { } tls)
        {
            yield return new(JobTlsFiles.CaFile, Encoding.UTF8.GetBytes(tls.CaCertificate));
            yield return new(JobTlsFiles.CertificateFile, Encoding.UTF8.GetBytes(tls.Certificate));
            yield return new(JobTlsFiles.KeyFile, Encoding.UTF8.GetBytes(tls.PrivateKey));
        }
    }

    /// <summary>The credentials in a job's Secret; null without a token. TLS material counts only when all three files are there.</summary>
    public static JobCredentials? FromSecret(V1Secret? secret)
    {
        if (secret?.Data is not { } data || !data.TryGetValue(JobNames.TokenKey, out byte[]? token))
        {
            return null;
        }

        string? Text(string key) => data.TryGetValue(key, out byte[]? bytes) ? Encoding.UTF8.GetString(bytes) : null;
        JobTlsFiles? tls = (Text(JobTlsFiles.CaFile), Text(JobTlsFiles.CertificateFile), Text(JobTlsFiles.KeyFile)) is ({ } ca, { } certificate, { } key)
            ? new JobTlsFiles(ca, certificate, key)
            : null;
        return new JobCredentials(Encoding.UTF8.GetString(token), tls);
    }
}
