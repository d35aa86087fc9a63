using DesLoc.Trainer.Tokenization;

namespace DesLoc.Trainer.Tests.Tokenization;

public sealed class TextTokenizersTests
{
    [Fact]
    public void Gpt2_encodes_as_openai_gpt2_does()
    {
        ITextTokenizer gpt2 = TextTokenizers.Create(TokenizerNames.Gpt2);
        var ids = new List<int>();
        gpt2.Encode("Hello world", ids);
        // tiktoken.get_encoding("gpt2").encode("Hello world") == [15496, 995]
        Assert.Equal([15496, 995], ids);
        Assert.Equal(50256, gpt2.EndOfText);
        Assert.Equal(50257, gpt2.Vocab);
        Assert.Equal("Hello world", gpt2.Decode(ids));
    }

    [Fact]
    public void Bytes_round_trip_utf8()
    {
        ITextTokenizer bytes = TextTokenizers.Create(TokenizerNames.Bytes);
        var ids = new List<int>();
        bytes.Encode("né", ids);
        Assert.Equal([110, 195, 169], ids);
        Assert.Equal("né", bytes.Decode(ids));
    }
}
