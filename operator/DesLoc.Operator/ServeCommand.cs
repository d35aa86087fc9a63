namespace DesLoc.Operator;

/// <summary>`serve`: the Kubernetes backend.</summary>
internal static class ServeCommand
{
    public static Task<int> RunAsync(IReadOnlyList<string> options)
    {
        Console.Error.WriteLine("serve: not wired yet");
        return Task.FromResult(2);
    }
}
