using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DesLoc.Contract.Wire;

/// <summary>
/// A job's TLS material as PEM text, the way its Secret holds it and a trainer reads it from
/// <see cref="TrainerEnvironment.TlsDirectory"/>: the job's own CA certificate, and the one certificate (with its key)
/// that every worker and the operator present, client and server alike. The CA's private key is not part of it: the
/// certificate is issued once, with the job's Secret, and the key is dropped, so nothing can issue another.
/// </summary>
public sealed record JobTlsFiles(string CaCertificate, string Certificate, string PrivateKey)
{
    public const string CaFile = "ca.crt";
    public const string CertificateFile = "tls.crt";
    public const string KeyFile = "tls.key";

    /// <summary>Long enough for any training run; a job that outlives it gets new material with a new Secret.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(365);

    /// <summary>
    /// A new CA (ECDSA P-256) and a certificate it signs for <paramref name="names"/> (DNS names, wildcards, or IP
    /// addresses), usable as server and client; the CA's key is discarded. Two calls never share a CA.
    /// </summary>
    public static JobTlsFiles Issue(string job, IEnumerable<string> names, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(names);
        DateTimeOffset notBefore = now.AddMinutes(-5); // clock skew between the operator and the nodes
        DateTimeOffset notAfter = now + Validity;
        using ECDsa caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest(new X500DistinguishedName($"CN=desloc job CA {job}"), caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using X509Certificate2 ca = caRequest.CreateSelfSigned(notBefore, notAfter);

        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN=desloc job {job}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuth), new Oid(ClientAuth)], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var alternativeNames = new SubjectAlternativeNameBuilder();
        foreach (string name in names.Distinct(StringComparer.Ordinal))
        {
            if (IPAddress.TryParse(name, out IPAddress? address))
            {
                alternativeNames.AddIpAddress(address);
            }
            else
            {
                alternativeNames.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(alternativeNames.Build(true));
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        using X509Certificate2 certificate = request.Create(ca, notBefore, notAfter, serial);
        return new JobTlsFiles(ca.ExportCertificatePem(), certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>The three files of <paramref name="directory"/>, as the Secret's keys are mounted.</summary>
    public static JobTlsFiles Read(string directory) => new(
        File.ReadAllText(Path.Combine(directory, CaFile)),
        File.ReadAllText(Path.Combine(directory, CertificateFile)),
        File.ReadAllText(Path.Combine(directory, KeyFile)));

    internal const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    internal const string ClientAuth = "1.3.6.1.5.5.7.3.2";
}

/// <summary>
/// Mutual TLS between a job's workers, and from the operator to them: both ends present the job's certificate, and
/// each accepts only a peer whose certificate chains to the job's own CA (never the system's roots), so a peer of
/// another job, or with no certificate, is refused before a byte of the protocol. A client also checks the name it
/// dialed against the certificate (<c>*.job.ns.svc</c> on a cluster, loopback for <c>run</c>); the job token stays
/// the second check on every call.
/// </summary>
public sealed class JobTls : IDisposable
{
    private JobTls(X509Certificate2 certificate, X509Certificate2 authority)
    {
        Certificate = certificate;
        Authority = authority;
    }

    /// <summary>The job's certificate with its private key: what this end presents.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The job's CA: the only root a peer's certificate may chain to.</summary>
    public X509Certificate2 Authority { get; }

    public static JobTls From(JobTlsFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        using X509Certificate2 pem = X509Certificate2.CreateFromPem(files.Certificate, files.PrivateKey);
        // A PEM key is ephemeral; some platforms' TLS servers need it in a key store, which a PKCS#12 round trip gives.
        X509Certificate2 certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        return new JobTls(certificate, X509Certificate2.CreateFromPem(files.CaCertificate));
    }

    public static JobTls Load(string directory) => From(JobTlsFiles.Read(directory));

    /// <summary>A server's side: present the job certificate, require the client's, accept it only from the job's CA.</summary>
    public SslServerAuthenticationOptions ServerOptions() => new()
    {
        ServerCertificateContext = SslStreamCertificateContext.Create(Certificate, null, offline: true),
        ClientCertificateRequired = true,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsJobPeer(certificate, errors, client: true),
    };

    /// <summary>A client's side: dial <paramref name="host"/>, present the job certificate, accept the server only from the job's CA under that name.</summary>
    public SslClientAuthenticationOptions ClientOptions(string? host = null) => new()
    {
        TargetHost = host,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        LocalCertificateSelectionCallback = (_, _, _, _, _) => Certificate,
        RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsJobPeer(certificate, errors, client: false),
    };

    /// <summary>
    /// True when <paramref name="presented"/> chains to the job's CA alone, for the role the peer plays (a client's
    /// certificate must allow client auth, a server's server auth), and, for a server, carries the name dialed
    /// (<paramref name="errors"/> reports a mismatch; the platform's own chain verdict is ignored, it knows only system roots).
    /// </summary>
    public bool IsJobPeer(X509Certificate? presented, SslPolicyErrors errors, bool client)
    {
        if (presented is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using X509Certificate2 certificate = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(client ? JobTlsFiles.ClientAuth : JobTlsFiles.ServerAuth));
        return chain.Build(certificate)
            && chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(Authority.RawDataMemory.Span);
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Authority.Dispose();
    }
}
