using System.Text.Json.Nodes;
using DesLoc.Testing.Kubernetes.Validation;

namespace DesLoc.Operator.Tests.Validation;

public sealed class CelProgramTests
{
    private const string Desloc = """{"ku": 12, "kx": 4, "topK": 8, "chunk": 16, "lr": 0.5, "name": "trainer-0", "tags": ["a", "b", "c"], "m": {"x": 1, "y": 2}}""";

    [Theory]
    // Literals and arithmetic.
    [InlineData("1 + 2 * 3", "null", "7")]
    [InlineData("(1 + 2) * 3", "null", "9")]
    [InlineData("7 / 2", "null", "3")]
    [InlineData("-7 / 2", "null", "-3")]
    [InlineData("-7 % 3", "null", "-1")]
    [InlineData("7.0 / 2.0", "null", "3.5")]
    [InlineData("-9223372036854775808", "null", "-9223372036854775808")]
    [InlineData("'a' + \"b\"", "null", "\"ab\"")]
    [InlineData("true ? 1 : 2", "null", "1")]
    [InlineData("false ? 1 : true ? 2 : 3", "null", "2")]
    [InlineData("!true", "null", "false")]
    [InlineData("--1", "null", "1")]
    // Field selection, index, has().
    [InlineData("self.ku % self.kx == 0", Desloc, "true")]
    [InlineData("self.topK <= self.chunk", Desloc, "true")]
    [InlineData("self.tags[1]", Desloc, "\"b\"")]
    [InlineData("has(self.ku)", Desloc, "true")]
    [InlineData("has(self.minReplicas)", Desloc, "false")]
    [InlineData("!has(self.minReplicas) || self.minReplicas <= self.replicas", Desloc, "true")]
    [InlineData("!has(self.minReplicas) || self.minReplicas <= self.replicas", """{"minReplicas": 3, "replicas": 2}""", "false")]
    // Comparisons: int and double compare numerically; lists and maps are equal deeply.
    [InlineData("1 == 1.0", "null", "true")]
    [InlineData("1 < 1.5", "null", "true")]
    [InlineData("2.5 >= 3", "null", "false")]
    [InlineData("self.lr < 1", Desloc, "true")]
    [InlineData("9007199254740993 > 9007199254740992.0", "null", "true")]
    [InlineData("[1, [2, 3]] == [1, [2, 3.0]]", "null", "true")]
    [InlineData("1 == 'a'", "null", "false")]
    [InlineData("self.p == self.q", """{"p": {"a": 1, "b": [2]}, "q": {"b": [2.0], "a": 1}}""", "true")]
    [InlineData("self.p != self.q", """{"p": {"a": 1}, "q": {"a": 2}}""", "true")]
    // Logic: the deciding side wins over an error on the other side, in either order.
    [InlineData("false && (1 / 0 == 1)", "null", "false")]
    [InlineData("(1 / 0 == 1) && false", "null", "false")]
    [InlineData("true || self.nope", "{}", "true")]
    [InlineData("self.nope || true", "{}", "true")]
    // Macros and size.
    [InlineData("self.tags.all(t, size(t) == 1)", Desloc, "true")]
    [InlineData("self.tags.exists(t, t == 'c')", Desloc, "true")]
    [InlineData("[[1, 2], [3]].all(l, l.all(x, x > 0))", "null", "true")]
    [InlineData("[1, 0].all(x, 1 / x > 5)", "null", "false")]
    [InlineData("[0, 1].exists(x, 1 / x == 1)", "null", "true")]
    [InlineData("[].all(x, false)", "null", "true")]
    [InlineData("self.template.spec.containers.exists(c, c.name == 'trainer')",
        """{"template": {"spec": {"containers": [{"name": "sidecar"}, {"name": "trainer"}]}}}""", "true")]
    [InlineData("size(self.tags) == self.tags.size()", Desloc, "true")]
    [InlineData("size('héllo')", "null", "5")]
    // Strings.
    [InlineData("self.name.startsWith('trainer-')", Desloc, "true")]
    [InlineData("string(12) + string(1.5) + string(true)", "null", "\"121.5true\"")]
    [InlineData("string(1000000.0)", "null", "\"1e+06\"")]
    public void Evaluate_ReturnsTheCelResult(string expression, string self, string expected)
    {
        object? result = CelProgram.Compile(expression).Evaluate(JsonNode.Parse(self));

        Assert.Equal(expected, CelRender.Render(result));
    }

    [Theory]
    [InlineData("1 / 0", "null", "division by zero")]
    [InlineData("1 % 0", "null", "modulus by zero")]
    [InlineData("9223372036854775807 + 1", "null", "integer overflow")]
    [InlineData("-9223372036854775808 - 1", "null", "integer overflow")]
    [InlineData("-9223372036854775808 / -1", "null", "integer overflow")]
    [InlineData("4611686018427387904 * 2", "null", "integer overflow")]
    [InlineData("self.minReplicas <= self.replicas", """{"replicas": 2}""", "no such key: minReplicas")]
    [InlineData("self.tags[3]", """{"tags": [1]}""", "index out of bounds: 3")]
    [InlineData("1 + 1.0", "null", "no such overload")]
    [InlineData("'a' < 1", "null", "no such overload")]
    [InlineData("'a' < 'b'", "null", "no such overload")]
    [InlineData("self.m['x']", """{"m": {"x": 1}}""", "no such overload")]
    [InlineData("self.m.all(k, true)", """{"m": {"x": 1}}""", "no such overload")]
    [InlineData("self.x.size()", """{"x": 1}""", "no such overload")]
    [InlineData("1 ? 2 : 3", "null", "no such overload")]
    [InlineData("true && (1 / 0 == 1)", "null", "division by zero")]
    [InlineData("(1 / 0 == 1) || false", "null", "division by zero")]
    [InlineData("[0, 2].all(x, 4 / x == 2)", "null", "division by zero")]
    public void Evaluate_RuntimeError_ThrowsEvaluationException(string expression, string self, string reason)
    {
        var program = CelProgram.Compile(expression);

        var error = Assert.Throws<CelEvaluationException>(() => program.Evaluate(JsonNode.Parse(self)));

        Assert.Equal(reason, error.Reason);
    }

    [Theory]
    [InlineData("self.a +", 8)]
    [InlineData("self.a = 1", 7)]
    [InlineData("1u + 2", 1)]
    [InlineData("0x10", 1)]
    [InlineData("1e3", 1)]
    [InlineData("r'a'", 0)]
    [InlineData("b'abc'", 0)]
    [InlineData("self.?a", 5)]
    [InlineData("self.a.lowerAscii()", 6)]
    [InlineData("timestamp('2024-01-01T00:00:00Z')", 0)]
    [InlineData("other.a", 0)]
    [InlineData("self.all(x)", 4)]
    [InlineData("self.all(x.y, true)", 10)]
    [InlineData("has(self)", 0)]
    [InlineData("Msg{a: 1}", 3)]
    [InlineData("'open", 0)]
    [InlineData("9223372036854775808", 0)]
    [InlineData("[x, y].all(x, x) && x", 1)]
    [InlineData("if", 0)]
    [InlineData("1 // comment", 3)]
    [InlineData("'''a'''", 2)]
    public void Compile_UnsupportedOrInvalid_ThrowsWithPosition(string expression, int position)
    {
        var error = Assert.Throws<CelException>(() => CelProgram.Compile(expression));

        Assert.IsNotType<CelEvaluationException>(error);
        Assert.Equal(position, error.Position);
    }

    [Theory]
    [InlineData("self.list.map(x, x)", 9, "function or macro '.map/2' is not supported by the test kit")]
    [InlineData("self.list.filter(x, true)", 9, "function or macro '.filter/2' is not supported by the test kit")]
    [InlineData("self.list.exists_one(x, true)", 9, "function or macro '.exists_one/2' is not supported by the test kit")]
    [InlineData("self.list.isSorted()", 9, "function or macro '.isSorted/0' is not supported by the test kit")]
    [InlineData("'a'.matches('a')", 3, "function or macro '.matches/1' is not supported by the test kit")]
    [InlineData("self.name.endsWith('a')", 9, "function or macro '.endsWith/1' is not supported by the test kit")]
    [InlineData("int(1.5)", 0, "function or macro 'int/1' is not supported by the test kit")]
    [InlineData("double(1)", 0, "function or macro 'double/1' is not supported by the test kit")]
    [InlineData("'b' in self.tags", 4, "operator 'in' is not supported by the test kit")]
    [InlineData("{'a': 1}", 0, "map literals are not supported by the test kit")]
    [InlineData("self.a == null", 10, "null literals are not supported by the test kit")]
    [InlineData("'a\\n'", 2, "escape sequences are not supported by the test kit")]
    [InlineData("b'abc'", 0, "raw and bytes strings are not supported by the test kit")]
    [InlineData("0x10", 1, "hex, unsigned and exponent literals are not supported by the test kit")]
    public void Compile_RemovedFeature_IsRefusedAsNotSupportedByTheKit(string expression, int position, string reason)
    {
        var error = Assert.Throws<CelException>(() => CelProgram.Compile(expression));

        Assert.IsNotType<CelEvaluationException>(error);
        Assert.Equal((reason, position), (error.Reason, error.Position));
    }

    [Fact]
    public void Evaluate_WithSchema_TypesNumbersAsTheApiserver()
    {
        var schema = JsonNode.Parse("""{"type": "object", "properties": {"lr": {"type": "number"}, "n": {"type": "integer"}}}""")!;
        var self = JsonNode.Parse("""{"lr": 2, "n": 3}""");

        Assert.Equal("4.0", CelRender.Render(CelProgram.Compile("self.lr * 2.0").Evaluate(self, schema: schema)));
        Assert.Throws<CelEvaluationException>(() => CelProgram.Compile("self.lr * 2").Evaluate(self, schema: schema));
        Assert.Equal("6", CelRender.Render(CelProgram.Compile("self.n * 2").Evaluate(self, schema: schema)));
    }

    [Fact]
    public void EvaluateBool_BindsOldSelf()
    {
        var program = CelProgram.Compile("self.replicas >= oldSelf.replicas");

        Assert.True(program.ReferencesOldSelf);
        Assert.True(program.EvaluateBool(JsonNode.Parse("""{"replicas": 3}"""), JsonNode.Parse("""{"replicas": 2}""")));
        Assert.False(program.EvaluateBool(JsonNode.Parse("""{"replicas": 1}"""), JsonNode.Parse("""{"replicas": 2}""")));
        Assert.Throws<CelEvaluationException>(() => CelProgram.Compile("1").EvaluateBool(null));
    }
}
