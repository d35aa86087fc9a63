namespace DesLoc.Trainer.Tokenization;

/// <summary>Text to token ids and back: what <c>prepare</c> encodes a corpus with and <c>generate</c> decodes with.</summary>
internal interface ITextTokenizer
{
    /// <summary>One of <see cref="TokenizerNames"/>: written into a dataset's manifest and an export's config.</summary>
    string Name { get; }

    int Vocab { get; }

    /// <summary>The id that separates documents (GPT-2's <c>&lt;|endoftext|&gt;</c>), when the tokenizer has one.</summary>
    int? EndOfText { get; }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>.</summary>
    void Encode(string text, List<int> ids);

    string Decode(IEnumerable<int> ids);
}
