using System.Runtime.CompilerServices;
using System.Text.Json;
using Parquet;
using Parquet.Schema;

namespace DesLoc.Trainer.Preparation;

/// <summary>
/// The documents of a corpus, in order: a <c>.txt</c> file is one document, a <c>.jsonl</c> file one per line (its text
/// field), a <c>.parquet</c> file one per row (its text column). A directory stands for its files of those kinds,
/// sorted by name. A problem is a <see cref="PrepareException"/> that names the file (and line).
/// </summary>
internal static class Corpus
{
    public static IReadOnlyList<string> Kinds { get; } = [".txt", ".jsonl", ".parquet"];

    /// <summary>The files <paramref name="inputs"/> stand for, in the order they are read.</summary>
    public static IReadOnlyList<string> Files(IReadOnlyList<string> inputs)
    {
        List<string> files = [];
        foreach (string input in inputs)
        {
            if (Directory.Exists(input))
            {
                string[] inside = [.. Directory.EnumerateFiles(input).Where(IsKnownKind).Order(StringComparer.Ordinal)];
                files.AddRange(inside.Length > 0 ? inside
                    : throw new PrepareException($"--input: '{input}' holds no {string.Join(", ", Kinds)} files."));
            }
            else if (!File.Exists(input))
            {
                throw new PrepareException($"--input: no file or directory at '{input}'.");
            }
            else
            {
                files.Add(IsKnownKind(input) ? input
                    : throw new PrepareException($"--input: '{input}' is not one of {string.Join(", ", Kinds)}."));
            }
        }

        return files;
    }

    /// <summary>The documents of <paramref name="file"/>; <paramref name="textField"/> names the text of a JSON line or Parquet row.</summary>
    public static IAsyncEnumerable<string> DocumentsAsync(string file, string textField, CancellationToken cancellationToken) =>
        Path.GetExtension(file).ToLowerInvariant() switch
        {
            ".txt" => PlainTextAsync(file, cancellationToken),
            ".jsonl" => JsonLinesAsync(file, textField, cancellationToken),
            _ => ParquetAsync(file, textField, cancellationToken),
        };

    private static bool IsKnownKind(string file) => Kinds.Contains(Path.GetExtension(file).ToLowerInvariant());

    private static async IAsyncEnumerable<string> PlainTextAsync(string file, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return await File.ReadAllTextAsync(file, cancellationToken);
    }

    private static async IAsyncEnumerable<string> JsonLinesAsync(string file, string textField, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        int number = 0;
        await foreach (string line in File.ReadLinesAsync(file, cancellationToken))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            yield return TextOf(line, textField) ?? throw new PrepareException(
                $"{file}:{number}: not a JSON object with a string field \"{textField}\" (--text-field names the field).");
        }
    }

    private static string? TextOf(string line, string textField)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(textField, out JsonElement text) && text.ValueKind == JsonValueKind.String
                ? text.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A UTF-8 string column: Parquet.Net 6 gives such columns as ReadOnlyMemory&lt;char&gt;, or string.</summary>
    private static bool IsText(DataField field) => field.ClrType == typeof(ReadOnlyMemory<char>) || field.ClrType == typeof(string);

    private static async IAsyncEnumerable<string> ParquetAsync(string file, string textField, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(file, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException)
        {
            throw new PrepareException($"{file}: not a Parquet file: {e.Message}");
        }

        await using (reader)
        {
            DataField field = reader.Schema.DataFields.FirstOrDefault(f => f.Name == textField && IsText(f))
                ?? throw new PrepareException(
                    $"{file}: no string column \"{textField}\" (columns: {string.Join(", ", reader.Schema.DataFields.Select(f => $"{f.Name} ({f.ClrType.Name})"))}); --text-field names the column.");
            for (int group = 0; group < reader.RowGroupCount; group++)
            {
                string?[] texts;
                using (ParquetRowGroupReader rows = reader.OpenRowGroupReader(group))
                {
                    texts = new string?[rows.RowCount];
                    await rows.ReadAsync(field, texts.AsMemory(), null, cancellationToken);
                }

                // A null cell is a row without text: nothing to train on.
                foreach (string? text in texts)
                {
                    if (text is not null)
                    {
                        yield return text;
                    }
                }
            }
        }
    }
}

/// <summary>A problem with prepare's inputs or output, naming the flag or file.</summary>
internal sealed class PrepareException(string message) : Exception(message);
