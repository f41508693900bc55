using System.Text;
using System.Text.Json;
using TinyLM.Generation;
using Xunit.Abstractions;

namespace TinyLM.Tests.Generation;

/// <summary>
/// <see cref="ChatTemplate"/> against llama.cpp's own outputs: Goldens/chat/builtin.json (every
/// built-in template on fixed conversations, <c>llama_chat_apply_template</c>) and detect.json (the
/// template <c>llm_chat_detect_template</c> picks for probe strings, the Jinja templates of llama.cpp's
/// tests/test-chat-template.cpp and its models/templates). Regenerate with tools/llamacpp/regen-chat-goldens.sh.
/// </summary>
public sealed class ChatTemplateTests(ITestOutputHelper output)
{
    private sealed record Output(string Conversation, bool AddAss, string? Text);

    private sealed record BuiltinGolden(string Name, string Detected, Output[] Outputs);

    private sealed record DetectGolden(string Source, string Name, string Template, string Detected, string? Builtin, Output[]? Outputs);

    private sealed record Goldens(
        string[] BuiltinNames,
        Dictionary<string, ChatMessage[]> Conversations,
        BuiltinGolden[] Builtins,
        DetectGolden[] Detects);

    private static readonly Lazy<Goldens> s_goldens = new(Load);

    private static Goldens Load()
    {
        string dir = Path.Combine(TestPaths.Goldens, "chat");
        using JsonDocument builtin = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "builtin.json")));
        using JsonDocument detect = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "detect.json")));
        JsonElement b = builtin.RootElement;
        string[] names = [.. b.GetProperty("builtin_templates").EnumerateArray().Select(e => e.GetString()!)];
        var conversations = b.GetProperty("conversations").EnumerateArray().ToDictionary(
            c => c.GetProperty("name").GetString()!,
            c => c.GetProperty("messages").EnumerateArray()
                  .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!))
                  .ToArray());
        BuiltinGolden[] builtins = [.. b.GetProperty("templates").EnumerateArray().Select(t => new BuiltinGolden(
            t.GetProperty("name").GetString()!, t.GetProperty("detected").GetString()!, Outputs(t.GetProperty("outputs"))))];
        DetectGolden[] detects = [.. detect.RootElement.GetProperty("templates").EnumerateArray().Select(t => new DetectGolden(
            t.GetProperty("source").GetString()!, t.GetProperty("name").GetString()!, t.GetProperty("template").GetString()!,
            t.GetProperty("detected").GetString()!, t.GetProperty("builtin").GetString(),
            t.TryGetProperty("outputs", out JsonElement o) ? Outputs(o) : null))];
        return new Goldens(names, conversations, builtins, detects);
    }

    private static Output[] Outputs(JsonElement outputs) =>
        [.. outputs.EnumerateArray().Select(o => new Output(
            o.GetProperty("conversation").GetString()!, o.GetProperty("add_ass").GetBoolean(), o.GetProperty("output").GetString()))];

    public static TheoryData<string> BuiltinNames()
    {
        var data = new TheoryData<string>();
        foreach (BuiltinGolden t in s_goldens.Value.Builtins)
            data.Add(t.Name);
        return data;
    }

    public static TheoryData<int, string> DetectCases()
    {
        var data = new TheoryData<int, string>();
        DetectGolden[] detects = s_goldens.Value.Detects;
        for (int i = 0; i < detects.Length; i++)
            data.Add(i, $"{detects[i].Source}: {(detects[i].Name.Length > 60 ? detects[i].Name[..60] + "..." : detects[i].Name)}");
        return data;
    }

    // Compares our output with llama.cpp's for each conversation, with and without add_ass.
    private static void AssertOutputs(ChatTemplate template, Output[] expected, string label)
    {
        Goldens g = s_goldens.Value;
        Assert.Equal(g.Conversations.Count * 2, expected.Length);
        foreach (Output o in expected)
        {
            Assert.NotNull(o.Text);
            string actual = template.Apply(g.Conversations[o.Conversation], o.AddAss);
            if (actual != o.Text)
                Assert.Fail($"{label}, conversation {o.Conversation}, add_ass={o.AddAss}:\nexpected {Show(o.Text)}\nactual   {Show(actual)}");
        }
    }

    private static string Show(string s) => JsonSerializer.Serialize(s);

    [Fact]
    public void BuiltinNames_EqualLlamaCppList()
    {
        Assert.Equal(s_goldens.Value.BuiltinNames, ChatTemplate.BuiltinNames);
    }

    [Theory]
    [MemberData(nameof(BuiltinNames))]
    public void Apply_EqualsLlamaCpp(string name)
    {
        BuiltinGolden golden = s_goldens.Value.Builtins.Single(t => t.Name == name);
        ChatTemplate? template = ChatTemplate.Detect(name);
        Assert.NotNull(template);
        Assert.Equal(name, template.Name);
        Assert.Equal(golden.Detected, template.LlamaCppEnumerator);
        AssertOutputs(template, golden.Outputs, name);
    }

    [Theory]
    [MemberData(nameof(DetectCases))]
    public void Detect_PicksLlamaCppTemplate(int index, string label)
    {
        DetectGolden golden = s_goldens.Value.Detects[index];
        ChatTemplate? template = ChatTemplate.Detect(golden.Template);
        Assert.True(golden.Detected == (template?.LlamaCppEnumerator ?? "LLM_CHAT_TEMPLATE_UNKNOWN"),
            $"{label}: llama.cpp detects {golden.Detected}, we detect {template?.LlamaCppEnumerator ?? "nothing"}");
        if (golden.Builtin is not null)
            Assert.Equal(golden.Builtin, template!.Name);
        if (golden.Outputs is not null)
            AssertOutputs(template!, golden.Outputs, label);
    }

    [Fact]
    public void Detect_CoversEveryTemplate()
    {
        // The probes and real templates reach every template llama.cpp can detect from a Jinja text;
        // only deepseek-ocr and mistral-v7-tekken are reachable by name alone.
        HashSet<string> detected = [.. s_goldens.Value.Detects.Where(d => d.Source != "probe" || !ChatTemplate.BuiltinNames.Contains(d.Template)).Select(d => d.Detected)];
        HashSet<string> all = [.. ChatTemplate.BuiltinNames.Select(n => ChatTemplate.Detect(n)!.LlamaCppEnumerator), ChatTemplate.Detect("<|endofuserprompt|>")!.LlamaCppEnumerator];
        all.ExceptWith(detected);
        Assert.Equal(["LLM_CHAT_TEMPLATE_DEEPSEEK_OCR", "LLM_CHAT_TEMPLATE_MISTRAL_V7_TEKKEN"], all.Order());
        Assert.Equal(s_goldens.Value.Detects.Length, s_goldens.Value.Detects.Select(d => (d.Source, d.Name)).Distinct().Count());
    }

    [Fact]
    public void SupportedTemplates_CoverLlamaCppBuiltinsAndPriorityList()
    {
        string[] llamaCpp = s_goldens.Value.BuiltinNames;
        var table = new StringBuilder("llama.cpp built-in template  supported\n");
        foreach (string name in llamaCpp)
            table.Append($"{name,-28} {(ChatTemplate.Detect(name) is not null ? "yes" : "no")}\n");
        output.WriteLine(table.ToString());

        string[] priority = ["chatml", "llama2", "llama2-sys", "llama2-sys-bos", "llama2-sys-strip", "llama3", "phi3", "gemma", "zephyr",
                             "mistral-v1", "mistral-v3", "mistral-v3-tekken", "mistral-v7"];
        foreach (string name in priority)
            Assert.NotNull(ChatTemplate.Detect(name));
        Assert.All(llamaCpp, name => Assert.Equal(name, ChatTemplate.Detect(name)?.Name));
    }

    [Fact]
    public void Detect_SmallModelTemplates()
    {
        // Zephyr's template, also TinyLlama-1.1B-Chat's, writes its </s> as eos_token, so llama.cpp's
        // heuristics see <|user|> and <|assistant|> without </s> and pick glmedge (no end-of-turn marks).
        DetectGolden[] detects = s_goldens.Value.Detects;
        Assert.Equal("glmedge", ChatTemplate.Detect(detects.Single(d => d.Name.Contains("TinyLlama", StringComparison.Ordinal)).Template)?.Name);
        Assert.Equal("chatml", ChatTemplate.Detect(detects.Single(d => d.Name.Contains("SmolLM2", StringComparison.Ordinal)).Template)?.Name);
        Assert.Equal("chatml", ChatTemplate.Detect(detects.Single(d => d.Name == "Qwen-Qwen2.5-7B-Instruct.jinja").Template)?.Name);
        Assert.Equal("gemma", ChatTemplate.Detect(detects.Single(d => d.Name == "google-gemma-2-2b-it.jinja").Template)?.Name);
        Assert.Equal("llama3", ChatTemplate.Detect(detects.Single(d => d.Name == "meta-llama-Llama-3.2-3B-Instruct.jinja").Template)?.Name);
        Assert.Equal("phi3", ChatTemplate.Detect(detects.Single(d => d.Name == "microsoft-Phi-3.5-mini-instruct.jinja").Template)?.Name);
        Assert.Same(ChatTemplate.Detect("chatml"), ChatTemplate.Detect("<|im_start|>"));
        Assert.Null(ChatTemplate.Detect(null));
        Assert.Null(ChatTemplate.Detect(""));
        Assert.Null(ChatTemplate.Detect("dots1"));
        Assert.Equal("dots1", ChatTemplate.Detect("<|endofuserprompt|>")?.Name);
    }

    [Fact]
    public void Apply_ChatMLAndLlama3_Examples()
    {
        ChatMessage[] chat = [new("system", "You are helpful."), new("user", "Hi")];
        Assert.Equal("<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            ChatTemplate.Detect("chatml")!.Apply(chat));
        Assert.Equal("<|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
            ChatTemplate.Detect("llama3")!.Apply(chat, addAssistantPrompt: false));
        Assert.Equal("chatml", ChatTemplate.Detect("chatml")!.ToString());
    }

    [Fact]
    public void Plain_JoinsContentsWithLineFeeds()
    {
        ChatMessage[] chat = [new("system", "A story."), new("user", "Once upon a time"), new("assistant", ""), new("tool", "x")];
        Assert.Equal("A story.\nOnce upon a time\n\nx", ChatTemplate.Plain(chat));
        Assert.Equal("Once upon a time", ChatTemplate.Plain([new("user", "Once upon a time")]));
        Assert.Equal("", ChatTemplate.Plain([]));
    }

    [Fact]
    public void Format_UsesDetectedTemplateElsePlain()
    {
        ChatMessage[] chat = [new("user", "Once upon a time")];
        Assert.Equal("Once upon a time", ChatTemplate.Format(null, chat));
        Assert.Equal("Once upon a time", ChatTemplate.Format("not a template", chat, addAssistantPrompt: true));
        Assert.Equal("<|user|>\nOnce upon a time<|end|>\n<|assistant|>\n", ChatTemplate.Format("phi3", chat));
        Assert.Equal("<|user|>\nOnce upon a time<|end|>\n", ChatTemplate.Format("{{ '<|assistant|>' }}{{ '<|end|>' }}", chat, addAssistantPrompt: false));
    }

    public static TheoryData<string?, string?> BadMessages() => new()
    {
        { null, "hi" },
        { "System", "hi" },
        { "developer", "hi" },
        { "function", "hi" },
        { "assistant_tool_call", "hi" },
        { "", "hi" },
        { "user", null },
        { "user", "a\0b" },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public void Apply_RejectsBadMessages(string? role, string? content)
    {
        ChatMessage[] chat = [new("system", "ok"), new(role!, content!)];
        foreach (string name in ChatTemplate.BuiltinNames)
            Assert.Equal("messages", Assert.Throws<ArgumentException>(() => ChatTemplate.Detect(name)!.Apply(chat)).ParamName);
        Assert.Equal("messages", Assert.Throws<ArgumentException>(() => ChatTemplate.Plain(chat)).ParamName);
        Assert.Equal("messages", Assert.Throws<ArgumentException>(() => ChatTemplate.Format(null, chat)).ParamName);
        Assert.Contains("messages[1]", Assert.Throws<ArgumentException>(() => ChatTemplate.Format("chatml", chat)).Message);
    }

    [Fact]
    public void Apply_RejectsNullListAndNullMessage()
    {
        ChatTemplate chatml = ChatTemplate.Detect("chatml")!;
        Assert.Equal("messages", Assert.Throws<ArgumentNullException>(() => chatml.Apply(null!)).ParamName);
        Assert.Equal("messages", Assert.Throws<ArgumentNullException>(() => ChatTemplate.Plain(null!)).ParamName);
        Assert.Equal("messages", Assert.Throws<ArgumentException>(() => chatml.Apply([null!])).ParamName);
    }
}
