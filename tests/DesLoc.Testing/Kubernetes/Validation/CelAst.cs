namespace DesLoc.Testing.Kubernetes.Validation;

/// <summary>A parsed CEL expression; <see cref="Position"/> is the offset errors point at.</summary>
internal abstract record CelExpr(int Position);

internal sealed record CelLiteral(int Position, object? Value) : CelExpr(Position);

internal sealed record CelIdent(int Position, string Name) : CelExpr(Position);

/// <summary><c>a.b</c>; <paramref name="TestOnly"/> is the <c>has(a.b)</c> macro.</summary>
internal sealed record CelSelect(int Position, CelExpr Operand, string Field, bool TestOnly) : CelExpr(Position);

internal sealed record CelIndex(int Position, CelExpr Operand, CelExpr Key) : CelExpr(Position);

/// <summary>A function call, global (<paramref name="Target"/> null) or on a receiver.</summary>
internal sealed record CelCall(int Position, CelExpr? Target, string Function, IReadOnlyList<CelExpr> Args) : CelExpr(Position);

internal sealed record CelUnary(int Position, string Op, CelExpr Operand) : CelExpr(Position);

internal sealed record CelBinary(int Position, string Op, CelExpr Left, CelExpr Right) : CelExpr(Position);

internal sealed record CelConditional(int Position, CelExpr Condition, CelExpr Then, CelExpr Else) : CelExpr(Position);

internal sealed record CelListLiteral(int Position, IReadOnlyList<CelExpr> Items) : CelExpr(Position);

/// <summary>The <c>all</c> or <c>exists</c> macro over a list.</summary>
internal sealed record CelComprehension(int Position, string Macro, CelExpr Range, string Variable, CelExpr Body) : CelExpr(Position);
