using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace DesLoc.Transport.Grpc;

/// <summary>The per-job secret every call carries; the server refuses a call without it or with another one.</summary>
public static class JobToken
{
    public const string Header = DesLoc.Contract.Wire.TrainerEnvironment.TokenHeader;

    public static Metadata Headers(string token) => new() { { Header, token } };

    /// <summary>Constant-time comparison, so response timing says nothing about the token.</summary>
    public static bool Matches(string? presented, string expected) =>
        presented is not null &&
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));
}

/// <summary>Server interceptor that checks the job token on every call, streaming or not.</summary>
public sealed class JobTokenInterceptor(string token) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        if (!JobToken.Matches(context.RequestHeaders.GetValue(JobToken.Header), token))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"Missing or wrong {JobToken.Header}."));
        }
    }
}
