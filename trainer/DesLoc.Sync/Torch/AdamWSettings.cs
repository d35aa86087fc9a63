namespace DesLoc.Sync.Torch;

/// <summary>Inner optimizer settings (the <c>training</c> block's AdamW fields).</summary>
public sealed record AdamWSettings(double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8, double WeightDecay = 0.01);
