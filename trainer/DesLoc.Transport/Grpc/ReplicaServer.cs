using System.Net;
using DesLoc.Contract.Wire;
using DesLoc.Transport.Membership;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DesLoc.Transport.Grpc;

/// <summary>
/// The replica's gRPC server: Kestrel on one HTTP/2 port, mutual TLS with the job's certificate (<see cref="JobTls"/>;
/// cleartext only when the job turns TLS off), tuned for bulk streams, every call checked for the job token, serving <see cref="ReplicaService"/> and, on the coordinating replica, <see cref="CoordinatorService"/>.
/// Callers may add listeners and endpoints before building (the trainer adds HTTP metrics).
/// </summary>
public static class ReplicaServer
{
    public static WebApplicationBuilder CreateBuilder(
        IPAddress address, int port, string token, JobTls? tls, Mailbox mailbox, IReplicaEndpoint endpoint, QuorumCoordinator? coordinator = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (tls is not null)
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = tls.Certificate,
                        ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                        CheckCertificateRevocation = false,
                        ClientCertificateValidation = (certificate, _, errors) => tls.IsJobPeer(certificate, errors, client: true),
                    });
                }
            });
            kestrel.Limits.MaxRequestBodySize = null;
            Http2Tuning.ApplyTo(kestrel.Limits.Http2);
        });
        builder.Services.AddSingleton(mailbox);
        builder.Services.AddSingleton(endpoint);
        if (coordinator is not null)
        {
            builder.Services.AddSingleton(coordinator);
        }

        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = PeerDirectory.MaxMessageBytes;
            grpc.MaxSendMessageSize = PeerDirectory.MaxMessageBytes;
            grpc.Interceptors.Add<JobTokenInterceptor>(token);
        });
        return builder;
    }

    public static void MapServices(WebApplication app)
    {
        app.MapGrpcService<ReplicaService>();
        if (app.Services.GetService<QuorumCoordinator>() is not null)
        {
            app.MapGrpcService<CoordinatorService>();
        }
    }
}
