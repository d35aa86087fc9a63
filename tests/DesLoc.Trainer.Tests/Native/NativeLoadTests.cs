using static TorchSharp.torch;

namespace DesLoc.Trainer.Tests.Native;

/// <summary>Fails when TorchSharp's natives do not load (e.g. the Debian 12 GLIBCXX fix did not run after the build).</summary>
[Collection("TorchSharp")]
public sealed class NativeLoadTests
{
    [Fact]
    public void TorchSharp_NativesLoad_AndComputeOnCpu()
    {
        using Tensor sum = ones(3, 4).sum();

        Assert.Equal(12f, sum.item<float>());
    }

    [Fact]
    public void GlueLibrary_NeedsNoVersionTheSystemLacks()
    {
        string glue = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        byte[] bytes = File.ReadAllBytes(glue);

        // Loading already proves it; this pins the reason: the GLIBCXX_3.4.32 need is gone or marked weak.
        Assert.True(File.Exists(glue));
        Assert.True(bytes.Length > 1_000_000);
        Assert.True(ElfVersionNeeds.IsWeakOrAbsent(bytes, "GLIBCXX_3.4.32") || SystemHas("GLIBCXX_3.4.32"));
    }

    private static bool SystemHas(string version)
    {
        const string LibStdCxx = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
        return File.Exists(LibStdCxx) && File.ReadAllBytes(LibStdCxx).AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(version + "\0")) >= 0;
    }
}
