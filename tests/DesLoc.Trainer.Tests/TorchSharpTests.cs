using System.Runtime.CompilerServices;

namespace DesLoc.Trainer.Tests;

/// <summary>Tests that touch libtorch's global state (the RNG, thread pools) run one at a time.</summary>
[CollectionDefinition("TorchSharp", DisableParallelization = true)]
public sealed class TorchSharpTests;

internal static class TorchSetup
{
    /// <summary>One intra-op thread, as every replica process pins it: results are then deterministic.</summary>
    [ModuleInitializer]
    internal static void PinThreads() => TorchSharp.torch.set_num_threads(1);
}
