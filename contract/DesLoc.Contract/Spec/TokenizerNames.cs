namespace DesLoc.Contract.Spec;

/// <summary>The tokenizers a prepared dataset can be encoded with, and the vocabulary each produces.</summary>
public static class TokenizerNames
{
    /// <summary>GPT-2's byte-level BPE (50,256 merges and <c>&lt;|endoftext|&gt;</c>).</summary>
    public const string Gpt2 = "gpt2";

    /// <summary>UTF-8 bytes, one token each.</summary>
    public const string Bytes = "bytes";

    public static IReadOnlyList<string> All { get; } = [Gpt2, Bytes];

    /// <summary>Token ids the tokenizer can produce: 0 .. VocabOf − 1.</summary>
    public static int VocabOf(string name) => name switch
    {
        Gpt2 => 50257,
        Bytes => DataSpec.ByteVocab,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, $"not a tokenizer; one of {string.Join(", ", All)}"),
    };
}
