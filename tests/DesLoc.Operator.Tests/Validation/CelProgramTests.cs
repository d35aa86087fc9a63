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
    [InlineData("0x10 + 1", "null", "17")]
    [InlineData("1e3", "null", "1000.0")]
    [InlineData("'a' + \"b\" + 'it\\'s'", "null", "\"abit's\"")]
    [InlineData("r'\\d+'", "null", "\"\\\\d+\"")]
    [InlineData("'\\u00e9\\x41\\101\\n'", "null", "\"éAA\\n\"")]
    [InlineData("[1, 2] + [3]", "null", "[1, 2, 3]")]
    [InlineData("{'a': 1, 'b': [true]}", "null", "{\"a\": 1, \"b\": [true]}")]
    [InlineData("null", "null", "null")]
    [InlineData("true ? 1 : 2", "null", "1")]
    [InlineData("false ? 1 : true ? 2 : 3", "null", "2")]
    [InlineData("!true", "null", "false")]
    [InlineData("--1", "null", "1")]
    // Field selection, index, has().
    [InlineData("self.ku % self.kx == 0", Desloc, "true")]
    [InlineData("self.topK <= self.chunk", Desloc, "true")]
    [InlineData("self.tags[1]", Desloc, "\"b\"")]
    [InlineData("self.m['y']", Desloc, "2")]
    [InlineData("self['ku']", Desloc, "12")]
    [InlineData("has(self.ku)", Desloc, "true")]
    [InlineData("has(self.minReplicas)", Desloc, "false")]
    [InlineData("!has(self.minReplicas) || self.minReplicas <= self.replicas", Desloc, "true")]
    [InlineData("!has(self.minReplicas) || self.minReplicas <= self.replicas", """{"minReplicas": 3, "replicas": 2}""", "false")]
    // Comparisons: int and double compare numerically, strings lexically, lists and maps deeply.
    [InlineData("1 == 1.0", "null", "true")]
    [InlineData("1 < 1.5", "null", "true")]
    [InlineData("2.5 >= 3", "null", "false")]
    [InlineData("self.lr < 1", Desloc, "true")]
    [InlineData("9007199254740993 > 9007199254740992.0", "null", "true")]
    [InlineData("'abc' < 'abd'", "null", "true")]
    [InlineData("'b' > 'abc'", "null", "true")]
    [InlineData("[1, [2, 3]] == [1, [2, 3.0]]", "null", "true")]
    [InlineData("{'a': 1} == {'a': 1}", "null", "true")]
    [InlineData("{'a': 1} != {'a': 2}", "null", "true")]
    [InlineData("1 == 'a'", "null", "false")]
    [InlineData("self.missing == null", """{"missing": null}""", "true")]
    // in over lists and map keys.
    [InlineData("'b' in self.tags", Desloc, "true")]
    [InlineData("'z' in self.tags", Desloc, "false")]
    [InlineData("'x' in self.m", Desloc, "true")]
    [InlineData("2 in [1.0, 2.0]", "null", "true")]
    // Logic: the deciding side wins over an error on the other side, in either order.
    [InlineData("false && (1 / 0 == 1)", "null", "false")]
    [InlineData("(1 / 0 == 1) && false", "null", "false")]
    [InlineData("true || self.nope", "{}", "true")]
    [InlineData("self.nope || true", "{}", "true")]
    // Macros and size.
    [InlineData("self.tags.all(t, size(t) == 1)", Desloc, "true")]
    [InlineData("self.tags.exists(t, t == 'c')", Desloc, "true")]
    [InlineData("self.tags.exists_one(t, t > 'a')", Desloc, "false")]
    [InlineData("self.tags.exists_one(t, t == 'a')", Desloc, "true")]
    [InlineData("self.tags.map(t, t + t)", Desloc, "[\"aa\", \"bb\", \"cc\"]")]
    [InlineData("[1, 2, 3, 4].map(x, x % 2 == 0, x * 10)", "null", "[20, 40]")]
    [InlineData("[1, 2, 3, 4].filter(x, x > 2)", "null", "[3, 4]")]
    [InlineData("self.m.all(k, k in ['x', 'y'])", Desloc, "true")]
    [InlineData("[[1, 2], [3]].all(l, l.all(x, x > 0))", "null", "true")]
    [InlineData("[1, 0].all(x, 1 / x > 5)", "null", "false")]
    [InlineData("[0, 1].exists(x, 1 / x == 1)", "null", "true")]
    [InlineData("[].all(x, false)", "null", "true")]
    [InlineData("self.template.spec.containers.exists(c, c.name == 'trainer')",
        """{"template": {"spec": {"containers": [{"name": "sidecar"}, {"name": "trainer"}]}}}""", "true")]
    [InlineData("size(self.tags) == self.tags.size()", Desloc, "true")]
    [InlineData("size('héllo')", "null", "5")]
    [InlineData("size(self.m)", Desloc, "2")]
    // Strings and conversions.
    [InlineData("self.name.startsWith('trainer-')", Desloc, "true")]
    [InlineData("self.name.endsWith('-0')", Desloc, "true")]
    [InlineData("self.name.contains('ner')", Desloc, "true")]
    [InlineData("self.name.matches('^[a-z]+-[0-9]+$')", Desloc, "true")]
    [InlineData("'xay'.matches('a')", "null", "true")]
    [InlineData("matches('abc', '^b')", "null", "false")]
    [InlineData("int(2.9) + int(-2.9) + int('40')", "null", "40")]
    [InlineData("double(1) / 4.0", "null", "0.25")]
    [InlineData("double('1.5')", "null", "1.5")]
    [InlineData("string(12) + string(1.5) + string(true)", "null", "\"121.5true\"")]
    [InlineData("string(1000000.0)", "null", "\"1e+06\"")]
    [InlineData("[1, 2, 2, 5].isSorted() && !['b', 'a'].isSorted()", "null", "true")]
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
    [InlineData("self.m['z']", """{"m": {}}""", "no such key: z")]
    [InlineData("self.tags[3]", """{"tags": [1]}""", "index out of bounds: 3")]
    [InlineData("1 + 1.0", "null", "no such overload")]
    [InlineData("'a' < 1", "null", "no such overload")]
    [InlineData("self.x.size()", """{"x": 1}""", "no such overload")]
    [InlineData("1 ? 2 : 3", "null", "no such overload")]
    [InlineData("true && (1 / 0 == 1)", "null", "division by zero")]
    [InlineData("(1 / 0 == 1) || false", "null", "division by zero")]
    [InlineData("[0, 2].all(x, 4 / x == 2)", "null", "division by zero")]
    [InlineData("[0, 2].exists_one(x, 4 / x == 2)", "null", "division by zero")]
    [InlineData("int(1e19)", "null", "range error converting 1e+19 to int")]
    [InlineData("{'a': 1, 'a': 2}", "null", "Failed with repeated key: a")]
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
