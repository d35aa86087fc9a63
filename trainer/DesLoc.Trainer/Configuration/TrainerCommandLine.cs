using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using DesLoc.Contract.Validation;
using DesLoc.Contract.Wire;
using DesLoc.Trainer.Preparation;

namespace DesLoc.Trainer.Configuration;

/// <summary>
/// desloc-trainer's command line (System.CommandLine): <c>--config spec.json</c> and one flag per field path of the
/// job spec, generated from the contract's records (<c>--training.steps 200 --algorithm.desloc.kx 32</c>), so that
/// <c>--help</c> lists every path with its type and a misspelt path is refused by name. A flag's value is checked for
/// its kind here (a whole number, true or false, one of an enum's names) and then goes, as text, through
/// <see cref="JobSpecLoader"/>'s JSON overrides, where the contract's validator checks the rest.
/// </summary>
internal static class TrainerCommandLine
{
    /// <summary>One field path of the spec as a flag: <c>--algorithm.dct.topK</c>.</summary>
    public sealed record Field(string Path, Option<string> Option);

    /// <summary>What a command line asks for: a spec file (or none) and field-path overrides in declaration order.</summary>
    public sealed record Request(string? ConfigPath, IReadOnlyList<KeyValuePair<string, string>> Overrides);

    private const string Description = """
        desloc-trainer: train a LowCommJob's replicas in this process.

        Every flag but --config is a field path of the job spec, for example
          --replicas 4 --algorithm.type DESLOC --algorithm.desloc.kx 32 --training.steps 400
        In a replica process (DESLOC_RANK set) the operator passes the spec in DESLOC_CONFIG; flags still override it.
        desloc-trainer prepare --input corpus.txt --output DIR tokenizes a corpus into shards for --data.shards DIR.
        The verbs export (a checkpoint's model for PyTorch / Hugging Face) and generate (text from an export) take flags of their own.
        """;

    private static readonly ParserConfiguration s_parser = new() { ResponseFileTokenReplacer = null };

    private static readonly Option<string> s_config = new("--config")
    {
        Description = "A job spec as JSON (the form the operator writes); the field-path flags override its fields.",
        HelpName = "spec.json",
    };

    /// <summary>The spec's scalar fields, in declaration order (lists and free-form objects are set in --config only).</summary>
    public static IReadOnlyList<Field> Fields { get; } = [.. FieldsOf(typeof(JobSpec), "", new JobSpec())];

    public static RootCommand Root { get; } = Build();

    public static ParseResult Parse(IReadOnlyList<string> args) => Root.Parse(args, s_parser);

    /// <summary>
    /// True where the command line asks for something other than training, which its own action does: --help,
    /// --version, or a verb (prepare, export, generate), whose parse errors its action reports.
    /// </summary>
    public static bool RunsItsOwnAction(ParseResult parsed) =>
        parsed.CommandResult.Command != Root || (parsed.Action is not null and not ParseErrorAction && parsed.Action != Root.Action);

    /// <summary>Reads a parsed command line; one that did not parse throws, one line per problem, each naming its flag.</summary>
    public static Request Read(ParseResult parsed)
    {
        if (parsed.Errors.Count > 0)
        {
            throw new ConfigurationException(string.Join(Environment.NewLine, Problems(parsed)));
        }

        List<KeyValuePair<string, string>> overrides = [];
        foreach (Field field in Fields)
        {
            if (parsed.GetResult(field.Option) is { Implicit: false } && parsed.GetValue(field.Option) is { } value)
            {
                overrides.Add(new(field.Path, value));
            }
        }

        return new Request(parsed.GetValue(s_config), overrides);
    }

    private static IEnumerable<string> Problems(ParseResult parsed)
    {
        var unmatched = parsed.UnmatchedTokens.ToHashSet(StringComparer.Ordinal);
        string? previous = null;
        foreach (ParseError problem in parsed.Errors)
        {
            string? token = unmatched.FirstOrDefault(t => problem.Message == $"Unrecognized command or argument '{t}'.");
            if (token is null)
            {
                yield return problem.Message;
            }
            else if (token.StartsWith('-'))
            {
                string flag = token.Split('=')[0];
                string? near = Nearest(flag[2..]);
                yield return $"Unknown flag {flag}: not a field path of the job spec{(near is null ? "" : $"; did you mean --{near}?")} (desloc-trainer --help lists them).";
            }
            else if (previous is null || !previous.StartsWith('-') || previous.Contains('=', StringComparison.Ordinal))
            {
                // A word after an unknown flag is that flag's value, already reported with it.
                yield return $"Unexpected argument '{token}': flags look like --training.steps 200.";
            }

            previous = token;
        }
    }

    /// <summary>The field path closest to a misspelt one, if any is within a few edits.</summary>
    private static string? Nearest(string path)
    {
        (string Path, int Distance) best = Fields.Select(f => (f.Path, Distance: Edits(f.Path, path))).MinBy(f => f.Distance);
        return best.Distance <= Math.Max(2, path.Length / 5) ? best.Path : null;
    }

    private static int Edits(string a, string b)
    {
        int[] row = [.. Enumerable.Range(0, b.Length + 1)];
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1));
                diagonal = above;
            }
        }

        return row[b.Length];
    }

    private static RootCommand Build()
    {
        var root = new RootCommand(Description) { s_config };
        foreach (Field field in Fields)
        {
            root.Options.Add(field.Option);
        }

        // Training is Main's own work (in-process or as a replica); the action only tells the parser that the root
        // command runs without a verb.
        root.SetAction(_ => TrainerExitCodes.Success);
        root.Subcommands.Add(PrepareCommand.Command);
        root.Subcommands.Add(ExportCommand());
        root.Subcommands.Add(GenerateCommand());
        return root;
    }

    private static Command ExportCommand()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint directory: a replica's (with manifest.json) or the job's checkpoint.path (its rank-0/ is used).", Required = true, HelpName = "DIR" };
        var step = new Option<long?>("--step") { Description = "The checkpoint's step [default: the newest valid one].", HelpName = "N" };
        var output = new Option<string>("--output") { Description = "Where model.safetensors and config.json go.", Required = true, HelpName = "DIR" };
        var command = new Command("export", "Write a checkpoint's model as model.safetensors and config.json (Hugging Face names: LlamaForCausalLM, GPT2LMHeadModel).")
        {
            checkpoint, step, output,
        };
        command.SetAction(parsed => Verbs.Export(parsed.GetValue(checkpoint)!, parsed.GetValue(step), parsed.GetValue(output)!, Console.Out, Console.Error));
        return command;
    }

    private static Command GenerateCommand()
    {
        var model = new Option<string>("--model") { Description = "An export directory (config.json, model.safetensors) or a checkpoint directory.", Required = true, HelpName = "DIR" };
        var prompt = new Option<string>("--prompt") { Description = "The text to continue.", Required = true, HelpName = "TEXT" };
        var tokens = new Option<int>("--tokens") { Description = "Tokens to generate.", DefaultValueFactory = _ => 100 };
        var temperature = new Option<double>("--temperature") { Description = "Softmax temperature; 0 is greedy.", DefaultValueFactory = _ => 0.8 };
        var topK = new Option<int>("--top-k") { Description = "Draw from the k likeliest tokens only; 0 keeps all.", DefaultValueFactory = _ => 50 };
        var seed = new Option<int>("--seed") { Description = "Seed of the sampler.", DefaultValueFactory = _ => 1 };
        AtLeastZero(tokens, "--tokens");
        AtLeastZero(topK, "--top-k");
        temperature.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is var t && (!double.IsFinite(t) || t < 0))
            {
                result.AddError($"--temperature takes a number of at least 0, not {t.ToString(CultureInfo.InvariantCulture)}.");
            }
        });
        var command = new Command("generate", "Continue a prompt with an exported model, its tokenizer from the export.")
        {
            model, prompt, tokens, temperature, topK, seed,
        };
        command.SetAction(parsed => Verbs.Generate(
            new Verbs.GenerateRequest(parsed.GetValue(model)!, parsed.GetValue(prompt)!, parsed.GetValue(tokens),
                new Generation.SamplingSettings(parsed.GetValue(temperature), parsed.GetValue(topK)), parsed.GetValue(seed)),
            Console.Out, Console.Error));
        return command;
    }

    private static void AtLeastZero(Option<int> option, string name) => option.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<int>() < 0)
        {
            result.AddError($"{name} takes a whole number of at least 0.");
        }
    });

    private static IEnumerable<Field> FieldsOf(Type type, string prefix, object defaults)
    {
        foreach (SchemaProperty property in SchemaProperty.Of(type))
        {
            string path = prefix + property.JsonName;
            object? fallback = property.Info.GetValue(defaults);
            if (SchemaProperty.IsSpecType(property.Type))
            {
                foreach (Field field in FieldsOf(property.Type, path + ".", fallback ?? Activator.CreateInstance(property.Type)!))
                {
                    yield return field;
                }
            }
            else if (Kind.Of(property.Type) is { } kind)
            {
                yield return new Field(path, FieldOption("--" + path, property, kind, fallback));
            }
        }
    }

    private static Option<string> FieldOption(string name, SchemaProperty property, Kind kind, object? fallback)
    {
        var option = new Option<string>(name)
        {
            Description = Describe(property, fallback),
            HelpName = property.AllowedValues is { } allowed ? string.Join('|', allowed.Values) : kind.HelpName,
            Arity = ArgumentArity.ZeroOrOne,
        };
        option.Validators.Add(result =>
        {
            if (result.Implicit)
            {
                return;
            }

            if (result.Tokens.Count == 0)
            {
                result.AddError($"{name} needs a value.");
            }
            else if (result.Tokens[0].Value is var value && !(property.Nullable && value == "null") && !kind.Accepts(value))
            {
                result.AddError($"{name} takes {kind.Expectation}, not '{value}'.");
            }
        });
        return option;
    }

    private static string Describe(SchemaProperty property, object? fallback)
    {
        var text = new List<string>();
        if (property.Description is { } description)
        {
            text.Add(description);
        }

        if (property.RangeText is { } range)
        {
            text.Add(range);
        }

        if (fallback is not null)
        {
            text.Add(string.Create(CultureInfo.InvariantCulture, $"[default: {(fallback is bool b ? b ? "true" : "false" : fallback)}]"));
        }

        return string.Join(' ', text);
    }

    /// <summary>The kinds of value a field path takes on the command line, as <see cref="JobSpecLoader"/> reads them.</summary>
    private sealed record Kind(string HelpName, string Expectation, Func<string, bool> Accepts)
    {
        public static Kind? Of(Type type) =>
            type == typeof(int) || type == typeof(long) ? new("int", "a whole number", v => long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            : type == typeof(double) ? new("number", "a number", v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d))
            : type == typeof(bool) ? new("true|false", "true or false", v => v is "true" or "false")
            : type == typeof(string) ? new("text", "text", _ => true)
            : type.IsEnum ? new(string.Join('|', Enum.GetNames(type)), $"one of {string.Join(", ", Enum.GetNames(type))}",
                v => Enum.GetNames(type).Contains(v, StringComparer.OrdinalIgnoreCase))
            : null;
    }
}
