using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using DesLoc.Operator.Reconciliation;

namespace DesLoc.Operator;

/// <summary>
/// desloc-operator's command line (System.CommandLine): the verbs <c>run</c>, <c>serve</c> and <c>crd</c> and their
/// flags. A command line that does not parse (an unknown flag, a malformed value) is refused with exit code 2 and a
/// line per problem that names the flag, before anything runs; <c>--help</c> lists every verb and flag.
/// </summary>
internal static class OperatorCommandLine
{
    /// <summary>The exit code of a command line that does not parse.</summary>
    public const int UsageError = 2;

    private static readonly ParserConfiguration s_parser = new() { ResponseFileTokenReplacer = null };

    public static RootCommand Root { get; } = Build();

    public static ParseResult Parse(IReadOnlyList<string> args) => Root.Parse(args, s_parser);

    /// <summary>Parses <paramref name="args"/> and runs the verb, or prints help, or refuses the command line (exit 2).</summary>
    public static async Task<int> InvokeAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ParseResult parsed = Parse(args);
        var invocation = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            // Exceptions and Ctrl+C/SIGTERM stay the verbs' own: `run` checkpoints on Ctrl+C, `serve` stops its host.
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        if (parsed.Action is ParseErrorAction)
        {
            foreach (string problem in Problems(parsed))
            {
                await error.WriteLineAsync(problem);
            }

            if (parsed.CommandResult.Command is RootCommand)
            {
                // No verb, or one it does not know: the usage says which there are.
                await Parse(["--help"]).InvokeAsync(new InvocationConfiguration { Output = error }, cancellationToken);
            }

            return UsageError;
        }

        return await parsed.InvokeAsync(invocation, cancellationToken);
    }

    /// <summary>One line per problem, each naming its flag; an unknown flag lists the verb's flags.</summary>
    public static IEnumerable<string> Problems(ParseResult parsed)
    {
        var unmatched = parsed.UnmatchedTokens.ToHashSet(StringComparer.Ordinal);
        foreach (ParseError problem in parsed.Errors)
        {
            string? token = unmatched.FirstOrDefault(t => problem.Message == $"Unrecognized command or argument '{t}'.");
            if (token is null)
            {
                yield return problem.Message;
            }
            else if (token.StartsWith('-'))
            {
                string known = string.Join(", ", Flags(parsed.CommandResult.Command));
                yield return $"Unknown flag {token.Split('=')[0]}; known: {known}.";
            }
            else if (parsed.CommandResult.Command is RootCommand root)
            {
                yield return $"Unknown verb '{token}'; verbs: {string.Join(", ", Verbs(root).Select(v => v.Name))}.";
            }
            else
            {
                yield return $"Unexpected argument '{token}'.";
            }
        }
    }

    /// <summary>A flag that takes a positive whole number; given bare it reads as 'true', and is refused as such.</summary>
    public static Option<int> PositiveNumber(string name, int fallback, string description)
    {
        var option = new Option<int>(name)
        {
            Description = description,
            HelpName = "N",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => fallback,
            CustomParser = result =>
            {
                string value = result.Tokens[0].Value;
                if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number > 0)
                {
                    return number;
                }

                result.AddError($"{name} takes a positive whole number, not '{value}'.");
                return fallback;
            },
        };
        option.Validators.Add(result =>
        {
            if (!result.Implicit && result.Tokens.Count == 0)
            {
                result.AddError($"{name} takes a positive whole number, not 'true'.");
            }
        });
        return option;
    }

    /// <summary>
    /// A flag that takes labels, <c>key=value,key=value</c>; read it with <see cref="LabelsValue"/>. A pair without a
    /// key or '=', or a key or value outside Kubernetes' label syntax (<see cref="LabelSyntax"/>), is refused here, at
    /// start: the API server would refuse every NetworkPolicy that carried it.
    /// </summary>
    public static Option<string> Labels(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "LABELS",
        Validators =
        {
            result =>
            {
                if (OperatorPeer.ParseLabels(result.GetValueOrDefault<string>(), out string? problem) is null)
                {
                    result.AddError($"{name} {problem}.");
                }
            },
        },
    };

    /// <summary>The labels of a <see cref="Labels"/> flag; none when it is not given.</summary>
    public static IReadOnlyDictionary<string, string> LabelsValue(ParseResult parsed, Option<string> option) =>
        OperatorPeer.ParseLabels(parsed.GetValue(option)) ?? new Dictionary<string, string>();

    /// <summary>
    /// A true/false flag: bare, <c>--name=false</c> or <c>--name false</c>. Its value is text so that a malformed
    /// one reaches the check below (a bool option would leave it unmatched); read it with <see cref="SwitchValue"/>.
    /// </summary>
    public static Option<string> Switch(string name, bool fallback, string description)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            HelpName = "true|false",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => fallback ? "true" : "false",
        };
        option.Validators.Add(result =>
        {
            string value = result.Tokens.Count == 0 ? "true" : result.Tokens[0].Value;
            if (!result.Implicit && !bool.TryParse(value, out _))
            {
                result.AddError($"{name} takes true or false, not '{value}'.");
            }
        });
        return option;
    }

    public static bool SwitchValue(ParseResult parsed, Option<string> option) =>
        bool.Parse(parsed.GetValue(option) is { Length: > 0 } value ? value : "true");

    private static IEnumerable<string> Flags(Command command) =>
        command.Options.Where(o => o is not HelpOption and not VersionOption).Select(o => o.Name);

    private static IEnumerable<Command> Verbs(Command root) => root.Subcommands.Where(c => !c.Hidden);

    /// <summary>One usage line of a verb: <c>serve [--namespace NS] [--workers N] ...</c>.</summary>
    private static string Synopsis(Command verb) => string.Join(' ',
        new[] { verb.Name }
            .Concat(verb.Arguments.Select(a => a.Name))
            .Concat(verb.Options.Where(o => o is not HelpOption).Select(o => $"[{o.Name} {o.HelpName}]")));

    /// <summary>The standard help and, for the bare program, each verb's usage line with all its flags.</summary>
    private sealed class VerbsHelpAction(HelpAction standard) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            int code = standard.Invoke(parseResult);
            if (parseResult.CommandResult.Command is RootCommand root)
            {
                TextWriter output = parseResult.InvocationConfiguration.Output;
                output.WriteLine("Verbs and their flags:");
                foreach (Command verb in Verbs(root))
                {
                    output.WriteLine($"  desloc-operator {Synopsis(verb)}");
                }

                output.WriteLine();
            }

            return code;
        }
    }

    private static RootCommand Build()
    {
        var root = new RootCommand("desloc-operator: low-communication training jobs (LowCommJob, desloc.dev/v1alpha1).")
        {
            RunCommand.Command,
            ServeCommand.Command,
            CrdCommand.Command,
        };
        // The usage lists every verb with its flags (each verb's --help describes them).
        HelpOption helpOption = root.Options.OfType<HelpOption>().Single();
        helpOption.Action = new VerbsHelpAction((HelpAction)helpOption.Action!);
        var help = new Command("help", "Show the verbs and their flags.") { Hidden = true };
        help.SetAction(parsed => Parse(["--help"]).Invoke(parsed.InvocationConfiguration));
        root.Subcommands.Add(help);
        return root;
    }
}
