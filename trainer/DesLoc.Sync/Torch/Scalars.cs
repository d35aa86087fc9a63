using TorchSharp;

namespace DesLoc.Sync.Torch;

/// <summary>
/// TorchSharp turns a double argument into a temporary native <see cref="Scalar"/> and passes only its raw handle
/// to libtorch, so under GC pressure the temporary can be finalized while the native call still reads it (we saw
/// libtorch fail in Scalar::toFloat; dotnet/TorchSharp PRs #1434 and #1496). Hot paths therefore pass scalars
/// that are held alive: these constants, or per-call scalars in a <c>using</c>.
/// </summary>
public static class Scalars
{
    /// <summary>1, for <c>a.add(b, Scalars.One)</c> in place of <c>a + b</c>. Static, so never finalized.</summary>
    public static Scalar One { get; } = 1.0.ToScalar();
}
