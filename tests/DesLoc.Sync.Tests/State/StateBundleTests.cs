using DesLoc.Sync.State;

namespace DesLoc.Sync.Tests.State;

public sealed class StateBundleTests
{
    private static StateBundle Sample()
    {
        var bundle = new StateBundle();
        bundle.SetFloats("replica.params", [1.5f, -2f, 3.25f]);
        bundle.SetLongs("position", 42, 2);
        return bundle;
    }

    [Fact]
    public void ToBytesThenFromBytes_RoundTripsEverySection()
    {
        StateBundle restored = StateBundle.FromBytes(Sample().ToBytes());

        Assert.Equal([1.5f, -2f, 3.25f], restored.Floats("replica.params"));
        Assert.Equal([42L, 2L], restored.Longs("position"));
        Assert.Equal(42, restored.Scalar("position"));
    }

    [Fact]
    public void FromBytes_Truncated_IsRefused()
    {
        byte[] bytes = Sample().ToBytes();

        Assert.Throws<InvalidDataException>(() => StateBundle.FromBytes(bytes.AsSpan(0, bytes.Length - 5)));
    }

    [Fact]
    public void FromBytes_OneBitFlipped_IsRefused()
    {
        byte[] bytes = Sample().ToBytes();
        bytes[20] ^= 0x01;

        var error = Assert.Throws<InvalidDataException>(() => StateBundle.FromBytes(bytes));
        Assert.Contains("checksum", error.Message);
    }

    [Fact]
    public void Floats_MissingSection_NamesIt() =>
        Assert.Contains("'replica.m1'", Assert.Throws<InvalidDataException>(() => Sample().Floats("replica.m1")).Message);
}
