using System.Text;

namespace TinyLM.Generation;

/// <summary>
/// One of llama.cpp's built-in chat templates: turns a list of <see cref="ChatMessage"/>s into the
/// prompt text exactly as <c>llama_chat_apply_template</c> does (include/llama.h; src/llama-chat.cpp,
/// <c>llm_chat_detect_template</c> and <c>llm_chat_apply_template</c>, llama.cpp release v0.5.0 as
/// bundled by node-llama-cpp 3.22.1). This is llama.cpp's non-Jinja path: a model's
/// <c>tokenizer.chat_template</c> is not executed, only recognized by the substrings llama.cpp looks
/// for, and the matching hand-written format is applied.
/// </summary>
/// <remarks>
/// <para>
/// All of llama.cpp's built-in templates are ported (<see cref="BuiltinNames"/>): chatml, llama2,
/// llama2-sys, llama2-sys-bos, llama2-sys-strip, mistral-v1, mistral-v3, mistral-v3-tekken,
/// mistral-v7, mistral-v7-tekken, phi3, phi4, falcon3, zephyr, monarch, gemma, orion, openchat,
/// vicuna, vicuna-orca, deepseek, deepseek2, deepseek3, deepseek-ocr, command-r, llama3, chatglm3,
/// chatglm4, glmedge, minicpm, exaone3, exaone4, exaone-moe, rwkv-world, granite, granite-4.0,
/// granite-4.1, gigachat, megrez, yandex, bailing, bailing-think, bailing2, llama4, smolvlm,
/// hunyuan-moe, gpt-oss, hunyuan-dense, hunyuan-vl, kimi-k2, seed_oss, grok-2, pangu-embedded,
/// solar-open; plus dots1, which llama.cpp detects (<c>LLM_CHAT_TEMPLATE_DOTS1</c>) but does not name,
/// so <c>Detect("dots1")</c> is null as in llama.cpp.
/// </para>
/// <para>
/// Byte-for-byte: the output, encoded as UTF-8, equals llama.cpp's for every accepted input. Where
/// llama.cpp trims it removes only C <c>isspace</c>'s ASCII bytes (space, \t, \n, \v, \f, \r), not
/// Unicode spaces such as U+00A0. Templates that ignore <c>add_ass</c> in llama.cpp (mistral-v7,
/// orion, minicpm, rwkv-world, hunyuan-moe, hunyuan-dense, hunyuan-vl, deepseek-ocr) ignore
/// <c>addAssistantPrompt</c> too. No BOS is added here: as in llama.cpp, the tokenizer adds it.
/// </para>
/// <para>
/// Detection is llama.cpp's, misses included: the Zephyr template that TinyLlama-1.1B-Chat also uses
/// writes its <c>&lt;/s&gt;</c> as <c>eos_token</c>, so llama.cpp (and this class) pick glmedge for it, not
/// zephyr; pass the name <c>"zephyr"</c> to <see cref="Detect"/> to choose it explicitly.
/// </para>
/// <para>Instances are immutable and shared; all members are thread-safe.</para>
/// </remarks>
public sealed class ChatTemplate
{
    // llama.cpp's llm_chat_template enumerators (src/llama-chat.h), without UNKNOWN.
    private enum Kind
    {
        ChatML, Llama2, Llama2Sys, Llama2SysBos, Llama2SysStrip, MistralV1, MistralV3, MistralV3Tekken,
        MistralV7, MistralV7Tekken, Phi3, Phi4, Falcon3, Zephyr, Monarch, Gemma, Orion, OpenChat,
        Vicuna, VicunaOrca, DeepSeek, DeepSeek2, DeepSeek3, DeepSeekOcr, CommandR, Llama3, ChatGlm3,
        ChatGlm4, GlmEdge, MiniCpm, Exaone3, Exaone4, ExaoneMoe, RwkvWorld, Granite3, Granite4_0,
        Granite4_1, GigaChat, Megrez, Yandex, Bailing, BailingThink, Bailing2, Llama4, SmolVlm, Dots1,
        HunyuanMoe, OpenAIMoe, HunyuanDense, HunyuanVl, KimiK2, SeedOss, Grok2, PanguEmbedded, SolarOpen,
    }

    // Every template: llama.cpp's name (LLM_CHAT_TEMPLATES) and enumerator. Dots1 has no llama.cpp name.
    private static readonly ChatTemplate[] s_all =
    [
        new("chatml", Kind.ChatML, "CHATML"),
        new("llama2", Kind.Llama2, "LLAMA_2"),
        new("llama2-sys", Kind.Llama2Sys, "LLAMA_2_SYS"),
        new("llama2-sys-bos", Kind.Llama2SysBos, "LLAMA_2_SYS_BOS"),
        new("llama2-sys-strip", Kind.Llama2SysStrip, "LLAMA_2_SYS_STRIP"),
        new("mistral-v1", Kind.MistralV1, "MISTRAL_V1"),
        new("mistral-v3", Kind.MistralV3, "MISTRAL_V3"),
        new("mistral-v3-tekken", Kind.MistralV3Tekken, "MISTRAL_V3_TEKKEN"),
        new("mistral-v7", Kind.MistralV7, "MISTRAL_V7"),
        new("mistral-v7-tekken", Kind.MistralV7Tekken, "MISTRAL_V7_TEKKEN"),
        new("phi3", Kind.Phi3, "PHI_3"),
        new("phi4", Kind.Phi4, "PHI_4"),
        new("falcon3", Kind.Falcon3, "FALCON_3"),
        new("zephyr", Kind.Zephyr, "ZEPHYR"),
        new("monarch", Kind.Monarch, "MONARCH"),
        new("gemma", Kind.Gemma, "GEMMA"),
        new("orion", Kind.Orion, "ORION"),
        new("openchat", Kind.OpenChat, "OPENCHAT"),
        new("vicuna", Kind.Vicuna, "VICUNA"),
        new("vicuna-orca", Kind.VicunaOrca, "VICUNA_ORCA"),
        new("deepseek", Kind.DeepSeek, "DEEPSEEK"),
        new("deepseek2", Kind.DeepSeek2, "DEEPSEEK_2"),
        new("deepseek3", Kind.DeepSeek3, "DEEPSEEK_3"),
        new("deepseek-ocr", Kind.DeepSeekOcr, "DEEPSEEK_OCR"),
        new("command-r", Kind.CommandR, "COMMAND_R"),
        new("llama3", Kind.Llama3, "LLAMA_3"),
        new("chatglm3", Kind.ChatGlm3, "CHATGLM_3"),
        new("chatglm4", Kind.ChatGlm4, "CHATGLM_4"),
        new("glmedge", Kind.GlmEdge, "GLMEDGE"),
        new("minicpm", Kind.MiniCpm, "MINICPM"),
        new("exaone3", Kind.Exaone3, "EXAONE_3"),
        new("exaone4", Kind.Exaone4, "EXAONE_4"),
        new("exaone-moe", Kind.ExaoneMoe, "EXAONE_MOE"),
        new("rwkv-world", Kind.RwkvWorld, "RWKV_WORLD"),
        new("granite", Kind.Granite3, "GRANITE_3_X"),
        new("granite-4.0", Kind.Granite4_0, "GRANITE_4_0"),
        new("granite-4.1", Kind.Granite4_1, "GRANITE_4_1"),
        new("gigachat", Kind.GigaChat, "GIGACHAT"),
        new("megrez", Kind.Megrez, "MEGREZ"),
        new("yandex", Kind.Yandex, "YANDEX"),
        new("bailing", Kind.Bailing, "BAILING"),
        new("bailing-think", Kind.BailingThink, "BAILING_THINK"),
        new("bailing2", Kind.Bailing2, "BAILING2"),
        new("llama4", Kind.Llama4, "LLAMA4"),
        new("smolvlm", Kind.SmolVlm, "SMOLVLM"),
        new("dots1", Kind.Dots1, "DOTS1", isBuiltin: false),
        new("hunyuan-moe", Kind.HunyuanMoe, "HUNYUAN_MOE"),
        new("gpt-oss", Kind.OpenAIMoe, "OPENAI_MOE"),
        new("hunyuan-dense", Kind.HunyuanDense, "HUNYUAN_DENSE"),
        new("hunyuan-vl", Kind.HunyuanVl, "HUNYUAN_VL"),
        new("kimi-k2", Kind.KimiK2, "KIMI_K2"),
        new("seed_oss", Kind.SeedOss, "SEED_OSS"),
        new("grok-2", Kind.Grok2, "GROK_2"),
        new("pangu-embedded", Kind.PanguEmbedded, "PANGU_EMBED"),
        new("solar-open", Kind.SolarOpen, "SOLAR_OPEN"),
    ];

    private static readonly ChatTemplate[] s_byKind = [.. s_all.OrderBy(t => t._kind)];

    private static readonly Dictionary<string, ChatTemplate> s_byName =
        s_all.Where(t => t.IsBuiltin).ToDictionary(t => t.Name, StringComparer.Ordinal);

    // C isspace in the "C" locale: the bytes llama.cpp's trim() removes.
    private static readonly char[] s_cSpace = [' ', '\t', '\n', '\v', '\f', '\r'];

    private readonly Kind _kind;

    private ChatTemplate(string name, Kind kind, string enumerator, bool isBuiltin = true)
    {
        Name = name;
        _kind = kind;
        LlamaCppEnumerator = "LLM_CHAT_TEMPLATE_" + enumerator;
        IsBuiltin = isBuiltin;
    }

    /// <summary>
    /// llama.cpp's name of the template (a key of <c>LLM_CHAT_TEMPLATES</c> in src/llama-chat.cpp, such
    /// as <c>"chatml"</c> or <c>"llama3"</c>), accepted by <see cref="Detect"/> and by llama.cpp's
    /// <c>--chat-template</c>; <c>"dots1"</c> for the one template llama.cpp detects but does not name.
    /// </summary>
    public string Name { get; }

    /// <summary>llama.cpp's <c>llm_chat_template</c> enumerator, e.g. <c>LLM_CHAT_TEMPLATE_CHATML</c>.</summary>
    internal string LlamaCppEnumerator { get; }

    /// <summary>True when <see cref="Name"/> is one of llama.cpp's built-in names.</summary>
    internal bool IsBuiltin { get; }

    /// <summary>
    /// The names of llama.cpp's built-in templates, as <c>llama_chat_builtin_templates</c> lists them
    /// (ordinal order of its <c>std::map</c>). Every one is supported.
    /// </summary>
    public static IReadOnlyList<string> BuiltinNames { get; } =
        [.. s_byName.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Returns <see cref="Name"/>.</summary>
    public override string ToString() => Name;

    /// <summary>
    /// Recognizes a built-in template as llama.cpp's <c>llm_chat_detect_template</c> (src/llama-chat.cpp)
    /// does: first an exact, case-sensitive built-in name (<c>"chatml"</c>, <c>"llama3"</c>, ...), then
    /// substrings of a Jinja template text (typically GGUF <c>tokenizer.chat_template</c>) tested in
    /// llama.cpp's order, e.g. <c>&lt;|im_start|&gt;</c> means chatml (or phi4 with <c>&lt;|im_sep|&gt;</c>,
    /// smolvlm with <c>&lt;end_of_utterance&gt;</c>), and a text starting with <c>mistral</c> or holding
    /// <c>[INST]</c> means a Mistral or Llama 2 variant.
    /// </summary>
    /// <param name="templateText">A built-in name or a Jinja chat template; null when the model has none.</param>
    /// <returns>The template, or null when <paramref name="templateText"/> is null or not recognized
    /// (llama.cpp's <c>LLM_CHAT_TEMPLATE_UNKNOWN</c>, for which <c>llama_chat_apply_template</c> returns -1).</returns>
    public static ChatTemplate? Detect(string? templateText)
    {
        if (templateText is null)
            return null;
        if (s_byName.TryGetValue(templateText, out ChatTemplate? named))
            return named;
        Kind? kind = DetectKind(templateText);
        return kind is { } k ? s_byKind[(int)k] : null;
    }

    private static Kind? DetectKind(string t)
    {
        bool Has(string s) => t.Contains(s, StringComparison.Ordinal);

        if (Has("<|im_start|>"))
            return Has("<|im_sep|>") ? Kind.Phi4
                : Has("<end_of_utterance>") ? Kind.SmolVlm // SmolVLM uses <|im_start|> as BOS, but is not chatml
                : Kind.ChatML;
        if (t.StartsWith("mistral", StringComparison.Ordinal) || Has("[INST]"))
        {
            if (Has("[SYSTEM_PROMPT]"))
                return Kind.MistralV7;
            if (Has("' [INST] ' + system_message") || Has("[AVAILABLE_TOOLS]"))
            {
                // Mistral's official v1, v3 and v3-tekken templates
                if (Has(" [INST]"))
                    return Kind.MistralV1;
                if (Has("\"[INST]\""))
                    return Kind.MistralV3Tekken;
                return Kind.MistralV3;
            }
            // Llama 2 and its variants
            if (Has("content.strip()"))
                return Kind.Llama2SysStrip;
            if (Has("bos_token + '[INST]"))
                return Kind.Llama2SysBos;
            if (Has("<<SYS>>"))
                return Kind.Llama2Sys;
            return Kind.Llama2;
        }
        if (Has("<|assistant|>") && Has("<|end|>"))
            return Kind.Phi3;
        if (Has("[gMASK]<sop>"))
            return Kind.ChatGlm4;
        if (Has("<|assistant|>") && Has("<|user|>"))
        {
            if (Has("<|tool_declare|>"))
                return Kind.ExaoneMoe;
            return Has("</s>") ? Kind.Falcon3 : Kind.GlmEdge;
        }
        if (Has("<|{{ item['role'] }}|>") && Has("<|begin_of_image|>"))
            return Kind.GlmEdge;
        if (Has("<|user|>") && Has("<|endoftext|>"))
            return Kind.Zephyr;
        if (Has("bos_token + message['role']"))
            return Kind.Monarch;
        if (Has("<start_of_turn>"))
            return Kind.Gemma;
        if (Has("'\\n\\nAssistant: ' + eos_token")) // OrionStarAI/Orion-14B-Chat
            return Kind.Orion;
        if (Has("GPT4 Correct ")) // openchat/openchat-3.5-0106
            return Kind.OpenChat;
        if (Has("USER: ") && Has("ASSISTANT: ")) // eachadea/vicuna-13b-1.1 (and the Orca variant)
            return Has("SYSTEM: ") ? Kind.VicunaOrca : Kind.Vicuna;
        if (Has("### Instruction:") && Has("<|EOT|>")) // deepseek-ai/deepseek-coder-33b-instruct
            return Kind.DeepSeek;
        if (Has("<|START_OF_TURN_TOKEN|>") && Has("<|USER_TOKEN|>")) // CohereForAI/c4ai-command-r-plus
            return Kind.CommandR;
        if (Has("<|start_header_id|>") && Has("<|end_header_id|>"))
            return Kind.Llama3;
        if (Has("[gMASK]sop")) // chatglm3-6b
            return Kind.ChatGlm3;
        if (Has("<用户>")) // MiniCPM-3B-OpenHermes-2.5-v2-GGUF
            return Kind.MiniCpm;
        if (Has("'Assistant: ' + message['content'] + eos_token"))
            return Kind.DeepSeek2;
        if (Has("<｜Assistant｜>") && Has("<｜User｜>") && Has("<｜end▁of▁sentence｜>"))
            return Kind.DeepSeek3;
        if (Has("[|system|]") && Has("[|assistant|]") && Has("[|endofturn|]"))
            return Has("[|tool|]") ? Kind.Exaone4 : Kind.Exaone3; // EXAONE-3.0-7.8B-Instruct
        if (Has("rwkv-world") || Has("{{- 'User: ' + message['content']|trim + '\\n\\n' -}}"))
            return Kind.RwkvWorld;
        if (Has("<|start_of_role|>"))
        {
            if (Has("<tool_call>") || Has("<tools>"))
                return Has("g4_default_system_message") ? Kind.Granite4_0 : Kind.Granite4_1;
            return Kind.Granite3;
        }
        if (Has("message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]"))
            return Kind.GigaChat;
        if (Has("<|role_start|>"))
            return Kind.Megrez;
        if (Has(" Ассистент:"))
            return Kind.Yandex;
        if (Has("<role>ASSISTANT</role>") && Has("'HUMAN'"))
            return Kind.Bailing;
        if (Has("<role>ASSISTANT</role>") && Has("\"HUMAN\"") && Has("<think>"))
            return Kind.BailingThink;
        if (Has("<role>ASSISTANT</role>") && Has("<role>HUMAN</role>") && Has("<|role_end|>"))
            return Kind.Bailing2;
        if (Has("<|header_start|>") && Has("<|header_end|>"))
            return Kind.Llama4;
        if (Has("<|endofuserprompt|>"))
            return Kind.Dots1;
        if (Has("<|extra_0|>") && Has("<|extra_4|>"))
            return Kind.HunyuanMoe;
        if (Has("<|start|>") && Has("<|channel|>"))
            return Kind.OpenAIMoe;
        if (Has("<｜hy_Assistant｜>") && Has("<｜hy_begin▁of▁sentence｜>"))
            return Kind.HunyuanVl;
        if (Has("<｜hy_Assistant｜>") && Has("<｜hy_place▁holder▁no▁3｜>"))
            return Kind.HunyuanDense;
        if (Has("<|im_assistant|>assistant<|im_middle|>"))
            return Kind.KimiK2;
        if (Has("<seed:bos>"))
            return Kind.SeedOss;
        if (Has("'Assistant: '  + message['content'] + '<|separator|>"))
            return Kind.Grok2;
        if (Has("[unused9]系统：[unused10]"))
            return Kind.PanguEmbedded;
        if (Has("<|begin|>") && Has("<|end|>") && Has("<|content|>"))
            return Kind.SolarOpen;
        return null;
    }

    /// <summary>
    /// Formats a chat as llama.cpp's <c>llm_chat_apply_template</c> does for this template
    /// (src/llama-chat.cpp): the same text, byte for byte once encoded as UTF-8.
    /// </summary>
    /// <param name="messages">The conversation, oldest first; may be empty. Roles are <see cref="ChatMessage.Roles"/>.</param>
    /// <param name="addAssistantPrompt">End with the text that opens the assistant's reply (llama.cpp <c>add_ass</c>,
    /// Jinja <c>add_generation_prompt</c>); some templates always or never do, as in llama.cpp.</param>
    /// <returns>The prompt text, without BOS (the tokenizer adds it).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="messages"/> is null.</exception>
    /// <exception cref="ArgumentException">A message is null, has a role not in <see cref="ChatMessage.Roles"/>,
    /// or has null content or content holding U+0000.</exception>
    public string Apply(IReadOnlyList<ChatMessage> messages, bool addAssistantPrompt = true)
    {
        Validate(messages);
        var sb = new StringBuilder();
        bool add = addAssistantPrompt;
        switch (_kind)
        {
            case Kind.ChatML:
                foreach (ChatMessage m in messages)
                    sb.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content).Append("<|im_end|>\n");
                if (add)
                    sb.Append("<|im_start|>assistant\n");
                break;

            case Kind.MistralV7:
            case Kind.MistralV7Tekken:
            {
                // huggingface.co/mistralai/Mistral-Large-Instruct-2411 (v7), Mistral-Small-3.1-24B-Instruct-2503 (v7-tekken)
                string space = _kind == Kind.MistralV7 ? " " : "";
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.SystemRole)
                        sb.Append("[SYSTEM_PROMPT]").Append(space).Append(m.Content).Append("[/SYSTEM_PROMPT]");
                    else if (m.Role == ChatMessage.UserRole)
                        sb.Append("[INST]").Append(space).Append(m.Content).Append("[/INST]");
                    else
                        sb.Append(space).Append(m.Content).Append("</s>");
                }
                break;
            }

            case Kind.MistralV1:
            case Kind.MistralV3:
            case Kind.MistralV3Tekken:
            {
                // github.com/mistralai/cookbook concept-deep-dive/tokenization/chat_templates.md
                string leading = _kind == Kind.MistralV1 ? " " : "";
                string trailing = _kind == Kind.MistralV3Tekken ? "" : " ";
                bool trimAssistant = _kind == Kind.MistralV3;
                bool insideTurn = false;
                foreach (ChatMessage m in messages)
                {
                    if (!insideTurn)
                    {
                        sb.Append(leading).Append("[INST]").Append(trailing);
                        insideTurn = true;
                    }
                    if (m.Role == ChatMessage.SystemRole)
                        sb.Append(m.Content).Append("\n\n");
                    else if (m.Role == ChatMessage.UserRole)
                        sb.Append(m.Content).Append(leading).Append("[/INST]");
                    else
                    {
                        sb.Append(trailing).Append(trimAssistant ? Trim(m.Content) : m.Content).Append("</s>");
                        insideTurn = false;
                    }
                }
                break;
            }

            case Kind.Llama2:
            case Kind.Llama2Sys:
            case Kind.Llama2SysBos:
            case Kind.Llama2SysStrip:
            {
                // huggingface.co/blog/llama2#how-to-prompt-llama-2
                bool systemMarkup = _kind != Kind.Llama2;
                bool bosInsideHistory = _kind == Kind.Llama2SysBos;
                bool strip = _kind == Kind.Llama2SysStrip;
                bool insideTurn = true; // no BOS at the beginning
                sb.Append("[INST] ");
                foreach (ChatMessage m in messages)
                {
                    string content = strip ? Trim(m.Content) : m.Content;
                    if (!insideTurn)
                    {
                        insideTurn = true;
                        sb.Append(bosInsideHistory ? "<s>[INST] " : "[INST] ");
                    }
                    if (m.Role == ChatMessage.SystemRole)
                    {
                        if (systemMarkup)
                            sb.Append("<<SYS>>\n").Append(content).Append("\n<</SYS>>\n\n");
                        else
                            sb.Append(content).Append('\n'); // no system support: prepended to the first turn
                    }
                    else if (m.Role == ChatMessage.UserRole)
                        sb.Append(content).Append(" [/INST]");
                    else
                    {
                        sb.Append(content).Append("</s>");
                        insideTurn = false;
                    }
                }
                break;
            }

            case Kind.Phi3:
                foreach (ChatMessage m in messages)
                    sb.Append("<|").Append(m.Role).Append("|>\n").Append(m.Content).Append("<|end|>\n");
                if (add)
                    sb.Append("<|assistant|>\n");
                break;

            case Kind.Phi4:
                foreach (ChatMessage m in messages)
                    sb.Append("<|im_start|>").Append(m.Role).Append("<|im_sep|>").Append(m.Content).Append("<|im_end|>");
                if (add)
                    sb.Append("<|im_start|>assistant<|im_sep|>");
                break;

            case Kind.Falcon3:
                foreach (ChatMessage m in messages)
                    sb.Append("<|").Append(m.Role).Append("|>\n").Append(m.Content).Append('\n');
                if (add)
                    sb.Append("<|assistant|>\n");
                break;

            case Kind.Zephyr:
                foreach (ChatMessage m in messages)
                    sb.Append("<|").Append(m.Role).Append("|>\n").Append(m.Content).Append("<|endoftext|>\n");
                if (add)
                    sb.Append("<|assistant|>\n");
                break;

            case Kind.Monarch:
                // mlabonne/AlphaMonarch-7B: <s> inside the history, not before the first message
                for (int i = 0; i < messages.Count; i++)
                    sb.Append(i == 0 ? "" : "<s>").Append(messages[i].Role).Append('\n').Append(messages[i].Content).Append("</s>\n");
                if (add)
                    sb.Append("<s>assistant\n");
                break;

            case Kind.Gemma:
            {
                // google/gemma-7b-it: no system role; system text joins the next non-model turn
                string systemPrompt = "";
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.SystemRole)
                    {
                        systemPrompt += Trim(m.Content);
                        continue;
                    }
                    string role = m.Role == ChatMessage.AssistantRole ? "model" : m.Role;
                    sb.Append("<start_of_turn>").Append(role).Append('\n');
                    if (systemPrompt.Length != 0 && role != "model")
                    {
                        sb.Append(systemPrompt).Append("\n\n");
                        systemPrompt = "";
                    }
                    sb.Append(Trim(m.Content)).Append("<end_of_turn>\n");
                }
                if (add)
                    sb.Append("<start_of_turn>model\n");
                break;
            }

            case Kind.Orion:
            {
                // OrionStarAI/Orion-14B-Chat: no system role; system text joins the next user turn
                string systemPrompt = "";
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.SystemRole)
                        systemPrompt += m.Content;
                    else if (m.Role == ChatMessage.UserRole)
                    {
                        sb.Append("Human: ");
                        if (systemPrompt.Length != 0)
                        {
                            sb.Append(systemPrompt).Append("\n\n");
                            systemPrompt = "";
                        }
                        sb.Append(m.Content).Append("\n\nAssistant: </s>");
                    }
                    else
                        sb.Append(m.Content).Append("</s>");
                }
                break;
            }

            case Kind.OpenChat:
                // openchat/openchat-3.5-0106
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.SystemRole)
                        sb.Append(m.Content).Append("<|end_of_turn|>");
                    else
                        sb.Append("GPT4 Correct ").Append(char.ToUpperInvariant(m.Role[0])).Append(m.Role, 1, m.Role.Length - 1)
                          .Append(": ").Append(m.Content).Append("<|end_of_turn|>");
                }
                if (add)
                    sb.Append("GPT4 Correct Assistant:");
                break;

            case Kind.Vicuna:
            case Kind.VicunaOrca:
                // eachadea/vicuna-13b-1.1 (and the Orca variant, with a system prefix)
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.SystemRole)
                    {
                        if (_kind == Kind.VicunaOrca)
                            sb.Append("SYSTEM: ").Append(m.Content).Append('\n');
                        else
                            sb.Append(m.Content).Append("\n\n");
                    }
                    else if (m.Role == ChatMessage.UserRole)
                        sb.Append("USER: ").Append(m.Content).Append('\n');
                    else if (m.Role == ChatMessage.AssistantRole)
                        sb.Append("ASSISTANT: ").Append(m.Content).Append("</s>\n");
                }
                if (add)
                    sb.Append("ASSISTANT:");
                break;

            case Kind.DeepSeek:
                // deepseek-ai/deepseek-coder-33b-instruct
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.SystemRole)
                        sb.Append(m.Content);
                    else if (m.Role == ChatMessage.UserRole)
                        sb.Append("### Instruction:\n").Append(m.Content).Append('\n');
                    else if (m.Role == ChatMessage.AssistantRole)
                        sb.Append("### Response:\n").Append(m.Content).Append("\n<|EOT|>\n");
                }
                if (add)
                    sb.Append("### Response:\n");
                break;

            case Kind.CommandR:
                // CohereForAI/c4ai-command-r-plus
                foreach (ChatMessage m in messages)
                {
                    string? token = m.Role switch
                    {
                        ChatMessage.SystemRole => "<|SYSTEM_TOKEN|>",
                        ChatMessage.UserRole => "<|USER_TOKEN|>",
                        ChatMessage.AssistantRole => "<|CHATBOT_TOKEN|>",
                        _ => null,
                    };
                    if (token is not null)
                        sb.Append("<|START_OF_TURN_TOKEN|>").Append(token).Append(Trim(m.Content)).Append("<|END_OF_TURN_TOKEN|>");
                }
                if (add)
                    sb.Append("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>");
                break;

            case Kind.Llama3:
                foreach (ChatMessage m in messages)
                    sb.Append("<|start_header_id|>").Append(m.Role).Append("<|end_header_id|>\n\n").Append(Trim(m.Content)).Append("<|eot_id|>");
                if (add)
                    sb.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
                break;

            case Kind.ChatGlm3:
                // chatglm3-6b
                sb.Append("[gMASK]sop");
                foreach (ChatMessage m in messages)
                    sb.Append("<|").Append(m.Role).Append("|>\n ").Append(m.Content);
                if (add)
                    sb.Append("<|assistant|>");
                break;

            case Kind.ChatGlm4:
                sb.Append("[gMASK]<sop>");
                foreach (ChatMessage m in messages)
                    sb.Append("<|").Append(m.Role).Append("|>\n").Append(m.Content);
                if (add)
                    sb.Append("<|assistant|>\n");
                break;

            case Kind.GlmEdge:
                foreach (ChatMessage m in messages)
                    sb.Append("<|").Append(m.Role).Append("|>\n").Append(m.Content);
                if (add)
                    sb.Append("<|assistant|>");
                break;

            case Kind.MiniCpm:
                // MiniCPM-3B-OpenHermes-2.5-v2-GGUF
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.UserRole)
                        sb.Append("<用户>").Append(Trim(m.Content)).Append("<AI>");
                    else
                        sb.Append(Trim(m.Content));
                }
                break;

            case Kind.DeepSeek2:
                // DeepSeek-V2
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.SystemRole)
                        sb.Append(m.Content).Append("\n\n");
                    else if (m.Role == ChatMessage.UserRole)
                        sb.Append("User: ").Append(m.Content).Append("\n\n");
                    else if (m.Role == ChatMessage.AssistantRole)
                        sb.Append("Assistant: ").Append(m.Content).Append("<｜end▁of▁sentence｜>");
                }
                if (add)
                    sb.Append("Assistant:");
                break;

            case Kind.DeepSeek3:
                // DeepSeek-V3
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.SystemRole)
                        sb.Append(m.Content).Append("\n\n");
                    else if (m.Role == ChatMessage.UserRole)
                        sb.Append("<｜User｜>").Append(m.Content);
                    else if (m.Role == ChatMessage.AssistantRole)
                        sb.Append("<｜Assistant｜>").Append(m.Content).Append("<｜end▁of▁sentence｜>");
                }
                if (add)
                    sb.Append("<｜Assistant｜>");
                break;

            case Kind.DeepSeekOcr:
                // no template: the contents only
                foreach (ChatMessage m in messages)
                    sb.Append(m.Content);
                break;

            case Kind.Exaone3:
            case Kind.Exaone4:
                // LGAI-EXAONE/EXAONE-3.0-7.8B-Instruct; EXAONE 4 adds the tool role
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.SystemRole)
                        sb.Append("[|system|]").Append(Trim(m.Content)).Append("[|endofturn|]\n");
                    else if (m.Role == ChatMessage.UserRole)
                        sb.Append("[|user|]").Append(Trim(m.Content)).Append('\n');
                    else if (m.Role == ChatMessage.AssistantRole)
                        sb.Append("[|assistant|]").Append(Trim(m.Content)).Append("[|endofturn|]\n");
                    else if (m.Role == ChatMessage.ToolRole && _kind == Kind.Exaone4)
                        sb.Append("[|tool|]").Append(Trim(m.Content)).Append("[|endofturn|]\n");
                }
                if (add)
                    sb.Append("[|assistant|]");
                break;

            case Kind.ExaoneMoe:
                // each role, including tool, as <|role|>\n ... <|endofturn|>\n
                foreach (ChatMessage m in messages)
                    sb.Append("<|").Append(m.Role).Append("|>\n").Append(Trim(m.Content)).Append("<|endofturn|>\n");
                if (add)
                    sb.Append("<|assistant|>\n");
                break;

            case Kind.RwkvWorld:
                // "\n\n" is the model's end-of-turn; "Assistant:" follows a final user message whatever addAssistantPrompt
                for (int i = 0; i < messages.Count; i++)
                {
                    ChatMessage m = messages[i];
                    if (m.Role == ChatMessage.SystemRole)
                        sb.Append("System: ").Append(Trim(m.Content)).Append("\n\n");
                    else if (m.Role == ChatMessage.UserRole)
                    {
                        sb.Append("User: ").Append(Trim(m.Content)).Append("\n\n");
                        if (i == messages.Count - 1)
                            sb.Append("Assistant:");
                    }
                    else if (m.Role == ChatMessage.AssistantRole)
                        sb.Append("Assistant: ").Append(Trim(m.Content)).Append("\n\n");
                }
                break;

            case Kind.Granite3:
            case Kind.Granite4_0:
            case Kind.Granite4_1:
                // IBM Granite 3.x, 4.0, 4.1: identical but for the assistant_tool_call role, which is not accepted here
                foreach (ChatMessage m in messages)
                    sb.Append("<|start_of_role|>").Append(m.Role).Append("<|end_of_role|>").Append(m.Content).Append("<|end_of_text|>\n");
                if (add)
                    sb.Append("<|start_of_role|>assistant<|end_of_role|>");
                break;

            case Kind.GigaChat:
            {
                bool hasSystem = messages.Count > 0 && messages[0].Role == ChatMessage.SystemRole;
                sb.Append("<s>");
                if (hasSystem)
                    sb.Append(messages[0].Content).Append("<|message_sep|>");
                for (int i = hasSystem ? 1 : 0; i < messages.Count; i++)
                {
                    ChatMessage m = messages[i];
                    if (m.Role == ChatMessage.UserRole)
                        sb.Append("user<|role_sep|>").Append(m.Content).Append("<|message_sep|>")
                          .Append("available functions<|role_sep|>[]<|message_sep|>");
                    else if (m.Role == ChatMessage.AssistantRole)
                        sb.Append("assistant<|role_sep|>").Append(m.Content).Append("<|message_sep|>");
                }
                if (add)
                    sb.Append("assistant<|role_sep|>");
                break;
            }

            case Kind.Megrez:
                foreach (ChatMessage m in messages)
                    sb.Append("<|role_start|>").Append(m.Role).Append("<|role_end|>").Append(m.Content).Append("<|turn_end|>");
                if (add)
                    sb.Append("<|role_start|>assistant<|role_end|>");
                break;

            case Kind.Yandex:
                // "\n\n" is the model's end-of-turn; system messages are dropped
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.UserRole)
                        sb.Append(" Пользователь: ").Append(m.Content).Append("\n\n");
                    else if (m.Role == ChatMessage.AssistantRole)
                        sb.Append(" Ассистент: ").Append(m.Content).Append("\n\n");
                }
                if (add)
                    sb.Append(" Ассистент:[SEP]");
                break;

            case Kind.Bailing:
            case Kind.BailingThink:
                // Ling / Ring
                foreach (ChatMessage m in messages)
                    sb.Append("<role>").Append(BailingRole(m.Role)).Append("</role>").Append(m.Content);
                if (add)
                {
                    sb.Append("<role>ASSISTANT</role>");
                    if (_kind == Kind.BailingThink)
                        sb.Append("<think>");
                }
                break;

            case Kind.Bailing2:
                // Ling 2.0
                if (messages.Count == 0 || messages[0].Role != ChatMessage.SystemRole)
                    sb.Append("<role>SYSTEM</role>detailed thinking off<|role_end|>");
                foreach (ChatMessage m in messages)
                    sb.Append("<role>").Append(BailingRole(m.Role)).Append("</role>").Append(m.Content).Append("<|role_end|>");
                if (add)
                    sb.Append("<role>ASSISTANT</role>");
                break;

            case Kind.Llama4:
                foreach (ChatMessage m in messages)
                    sb.Append("<|header_start|>").Append(m.Role).Append("<|header_end|>\n\n").Append(Trim(m.Content)).Append("<|eot|>");
                if (add)
                    sb.Append("<|header_start|>assistant<|header_end|>\n\n");
                break;

            case Kind.SmolVlm:
                sb.Append("<|im_start|>"); // <|im_start|> is SmolVLM's BOS; the turns are not chatml
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.SystemRole)
                        sb.Append(m.Content).Append("\n\n");
                    else if (m.Role == ChatMessage.UserRole)
                        sb.Append("User: ").Append(m.Content).Append("<end_of_utterance>\n");
                    else
                        sb.Append("Assistant: ").Append(m.Content).Append("<end_of_utterance>\n");
                }
                if (add)
                    sb.Append("Assistant:");
                break;

            case Kind.Dots1:
                // rednote-hilab/dots.llm1.inst
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.SystemRole)
                        sb.Append("<|system|>").Append(m.Content).Append("<|endofsystem|>");
                    else if (m.Role == ChatMessage.UserRole)
                        sb.Append("<|userprompt|>").Append(m.Content).Append("<|endofuserprompt|>");
                    else
                        sb.Append("<|response|>").Append(m.Content).Append("<|endofresponse|>");
                }
                if (add)
                    sb.Append("<|response|>");
                break;

            case Kind.HunyuanMoe:
                // tencent/Hunyuan-A13B-Instruct
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.SystemRole)
                        sb.Append("<|startoftext|>").Append(m.Content).Append("<|extra_4|>");
                    else if (m.Role == ChatMessage.AssistantRole)
                        sb.Append(m.Content).Append("<|eos|>");
                    else
                        sb.Append("<|startoftext|>").Append(m.Content).Append("<|extra_0|>");
                }
                break;

            case Kind.OpenAIMoe:
                // gpt-oss (OpenAI's Harmony format)
                foreach (ChatMessage m in messages)
                    sb.Append("<|start|>").Append(m.Role).Append("<|message|>").Append(m.Content)
                      .Append(m.Role == ChatMessage.AssistantRole ? "<|return|>" : "<|end|>");
                if (add)
                    sb.Append("<|start|>assistant");
                break;

            case Kind.HunyuanDense:
                // tencent/Hunyuan-4B-Instruct: only a first system message is kept
                for (int i = 0; i < messages.Count; i++)
                {
                    ChatMessage m = messages[i];
                    if (i == 0 && m.Role == ChatMessage.SystemRole)
                        sb.Append(m.Content).Append("<｜hy_place▁holder▁no▁3｜>");
                    if (m.Role == ChatMessage.AssistantRole)
                        sb.Append("<｜hy_Assistant｜>").Append(m.Content).Append("<｜hy_place▁holder▁no▁2｜>");
                    else if (m.Role == ChatMessage.UserRole)
                        sb.Append("<｜hy_User｜>").Append(m.Content).Append("<｜hy_Assistant｜>");
                }
                break;

            case Kind.HunyuanVl:
                // tencent/HunyuanOCR, tencent/HunyuanVL: only a first system message is kept
                sb.Append("<｜hy_begin▁of▁sentence｜>");
                for (int i = 0; i < messages.Count; i++)
                {
                    ChatMessage m = messages[i];
                    if (i == 0 && m.Role == ChatMessage.SystemRole)
                        sb.Append(m.Content).Append("<｜hy_place▁holder▁no▁3｜>");
                    else if (m.Role == ChatMessage.UserRole)
                        sb.Append(m.Content).Append("<｜hy_User｜>");
                    else if (m.Role == ChatMessage.AssistantRole)
                        sb.Append(m.Content).Append("<｜hy_Assistant｜>");
                }
                break;

            case Kind.KimiK2:
                // moonshotai/Kimi-K2-Instruct
                foreach (ChatMessage m in messages)
                {
                    sb.Append(m.Role switch
                    {
                        ChatMessage.SystemRole => "<|im_system|>system<|im_middle|>",
                        ChatMessage.UserRole => "<|im_user|>user<|im_middle|>",
                        ChatMessage.AssistantRole => "<|im_assistant|>assistant<|im_middle|>",
                        _ => "<|im_system|>tool<|im_middle|>",
                    });
                    sb.Append(m.Content).Append("<|im_end|>");
                }
                if (add)
                    sb.Append("<|im_assistant|>assistant<|im_middle|>");
                break;

            case Kind.SeedOss:
                // ByteDance-Seed/Seed-OSS-36B-Instruct
                foreach (ChatMessage m in messages)
                    sb.Append("<seed:bos>").Append(m.Role).Append('\n')
                      .Append(m.Role == ChatMessage.AssistantRole ? Trim(m.Content) : m.Content).Append("<seed:eos>");
                if (add)
                    sb.Append("<seed:bos>assistant\n");
                break;

            case Kind.Grok2:
                foreach (ChatMessage m in messages)
                {
                    if (m.Role == ChatMessage.SystemRole)
                        sb.Append("System: ").Append(Trim(m.Content)).Append("<|separator|>\n\n");
                    else if (m.Role == ChatMessage.UserRole)
                        sb.Append("Human: ").Append(Trim(m.Content)).Append("<|separator|>\n\n");
                    else if (m.Role == ChatMessage.AssistantRole)
                        sb.Append("Assistant: ").Append(m.Content).Append("<|separator|>\n\n");
                }
                if (add)
                    sb.Append("Assistant:");
                break;

            case Kind.PanguEmbedded:
                // [unused9]系统：...[unused10], 用户 (user), 助手 (assistant), 工具 (tool); an empty system turn first if none
                for (int i = 0; i < messages.Count; i++)
                {
                    ChatMessage m = messages[i];
                    if (i == 0 && m.Role != ChatMessage.SystemRole)
                        sb.Append("[unused9]系统：[unused10]");
                    string label = m.Role switch
                    {
                        ChatMessage.SystemRole => "系统",
                        ChatMessage.UserRole => "用户",
                        ChatMessage.AssistantRole => "助手",
                        _ => "工具",
                    };
                    sb.Append("[unused9]").Append(label).Append('：').Append(m.Content).Append("[unused10]");
                }
                if (add)
                    sb.Append("[unused9]助手：");
                break;

            case Kind.SolarOpen:
                foreach (ChatMessage m in messages)
                    sb.Append("<|begin|>").Append(m.Role).Append("<|content|>").Append(m.Content).Append("<|end|>");
                if (add)
                    sb.Append("<|begin|>assistant");
                break;

            default:
                throw new InvalidOperationException("Unhandled chat template " + _kind);
        }
        return sb.ToString();
    }

    /// <summary>
    /// The prompt for a model without a chat template, such as the story models (stories260K): the
    /// messages' contents in order, joined by a line feed (<c>"\n"</c>), with no roles or markup and no
    /// trailing line feed, so the model continues the last message's text. llama.cpp itself falls back
    /// to chatml instead, which a model never trained on it cannot follow.
    /// </summary>
    /// <param name="messages">The conversation, oldest first; may be empty (the result is then empty).</param>
    /// <returns>The contents joined by <c>"\n"</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="messages"/> is null.</exception>
    /// <exception cref="ArgumentException">As for <see cref="Apply"/>.</exception>
    public static string Plain(IReadOnlyList<ChatMessage> messages)
    {
        Validate(messages);
        var sb = new StringBuilder();
        for (int i = 0; i < messages.Count; i++)
        {
            if (i > 0)
                sb.Append('\n');
            sb.Append(messages[i].Content);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Formats a chat for a model: <see cref="Detect"/>(<paramref name="templateText"/>) and
    /// <see cref="Apply"/>, or <see cref="Plain"/> when the template is absent or not recognized.
    /// </summary>
    /// <param name="templateText">The model's chat template (GGUF <c>tokenizer.chat_template</c>) or a built-in name; may be null.</param>
    /// <param name="messages">The conversation, oldest first.</param>
    /// <param name="addAssistantPrompt">As for <see cref="Apply"/>; unused by <see cref="Plain"/>.</param>
    /// <returns>The prompt text.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="messages"/> is null.</exception>
    /// <exception cref="ArgumentException">As for <see cref="Apply"/>.</exception>
    public static string Format(string? templateText, IReadOnlyList<ChatMessage> messages, bool addAssistantPrompt = true) =>
        Detect(templateText) is { } template ? template.Apply(messages, addAssistantPrompt) : Plain(messages);

    private static void Validate(IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        for (int i = 0; i < messages.Count; i++)
        {
            ChatMessage? m = messages[i];
            if (m is null)
                throw new ArgumentException($"messages[{i}]: expected a message, found null.", nameof(messages));
            if (m.Role is null || !ChatMessage.Roles.Contains(m.Role, StringComparer.Ordinal))
                throw new ArgumentException(
                    $"messages[{i}].Role: expected one of {string.Join(", ", ChatMessage.Roles)}, found {(m.Role is null ? "null" : "\"" + m.Role + "\"")}.",
                    nameof(messages));
            if (m.Content is null)
                throw new ArgumentException($"messages[{i}].Content: expected text, found null.", nameof(messages));
            if (m.Content.Contains('\0'))
                throw new ArgumentException($"messages[{i}].Content: contains U+0000, which would end llama.cpp's C string.", nameof(messages));
        }
    }

    // llama.cpp's trim(): removes C isspace bytes only.
    private static string Trim(string s) => s.Trim(s_cSpace);

    // Bailing's role label: user is HUMAN, other roles upper-cased (ASCII, as C toupper).
    private static string BailingRole(string role) =>
        role == ChatMessage.UserRole ? "HUMAN" : role.ToUpperInvariant();
}
