namespace TinyLM.Generation;

/// <summary>
/// One message of a chat, as llama.cpp's <c>llama_chat_message</c> (include/llama.h): a role and its
/// text. <see cref="ChatTemplate"/> turns a list of them into a prompt.
/// </summary>
/// <param name="Role">
/// Who speaks: one of <see cref="Roles"/> (<c>system</c>, <c>user</c>, <c>assistant</c>, <c>tool</c>),
/// lowercase as llama.cpp compares them. Formatting rejects any other role.
/// </param>
/// <param name="Content">The message text; may be empty, must not contain U+0000 (llama.cpp passes C strings).</param>
public sealed record ChatMessage(string Role, string Content)
{
    /// <summary>The role of instructions to the model (<c>"system"</c>).</summary>
    public const string SystemRole = "system";

    /// <summary>The role of the person chatting (<c>"user"</c>).</summary>
    public const string UserRole = "user";

    /// <summary>The role of the model's replies (<c>"assistant"</c>).</summary>
    public const string AssistantRole = "assistant";

    /// <summary>
    /// The role of a tool's result (<c>"tool"</c>). Some of llama.cpp's templates give it its own
    /// markup (exaone4, exaone-moe, kimi-k2, pangu-embedded); most print it as they print any other
    /// role, or treat it as an assistant turn, or drop it, exactly as llama.cpp does.
    /// </summary>
    public const string ToolRole = "tool";

    /// <summary>
    /// The roles <see cref="ChatTemplate"/> accepts: the OpenAI chat roles that llama.cpp's built-in
    /// templates (src/llama-chat.cpp, <c>llm_chat_apply_template</c>) compare against. Its template-specific
    /// roles (granite's <c>assistant_tool_call</c>, pangu-embedded's <c>function</c>) are not accepted.
    /// </summary>
    public static IReadOnlyList<string> Roles { get; } = [SystemRole, UserRole, AssistantRole, ToolRole];
}
