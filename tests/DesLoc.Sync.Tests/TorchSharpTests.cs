namespace DesLoc.Sync.Tests;

/// <summary>Tests that touch libtorch's global state (the RNG, thread pools) run one at a time.</summary>
[CollectionDefinition("TorchSharp", DisableParallelization = true)]
public sealed class TorchSharpTests;
