// chat-template: writes the goldens that TinyLM's chat-template tests compare against, all computed
// by the prebuilt llama.cpp (libllama of node-llama-cpp 3.22.1, llama.cpp release v0.5.0), with no
// model: llama_chat_apply_template takes a template name or a Jinja template text.
//
//   chat-template LLAMA_CPP_SOURCE OUT_DIR
//
// LLAMA_CPP_SOURCE is the llama.cpp tree that setup.sh clones from node-llama-cpp's source bundle:
// the Jinja templates come from its tests/test-chat-template.cpp (the string literals after
// `/* .template_str`) and models/templates/*.jinja; src/llama-chat.h gives the llm_chat_template
// enumerator names.
//
// Files:
//   builtin.json  "builtin_templates": llama_chat_builtin_templates(), in its order;
//                 "conversations": the fixed conversations below;
//                 "templates": per built-in name, "detected" (see below) and "outputs", one per
//                 conversation and add_ass in {true, false}: llama_chat_apply_template(name, ...)
//                 (null when it returns < 0).
//   detect.json   "templates": per probe string (names, near-names, "", the smallest texts reaching
//                 each detection branch), per template of two small Hugging Face models, per Jinja
//                 template of tests/test-chat-template.cpp and per models/templates/*.jinja:
//                 "source", "name", "template" (the text), "detected" (below) and "builtin", the
//                 built-in name of the detected template (null when unknown or unnamed). For a
//                 template llama.cpp detects but does not name (dots1), "outputs" as above with the
//                 template text as llama_chat_apply_template's tmpl. For all others this program
//                 checks, through the public API, that the text formats every conversation exactly as
//                 its built-in name does (or fails, when unknown), and stops otherwise.
//
// "detected" is the enumerator name (e.g. LLM_CHAT_TEMPLATE_CHATML, LLM_CHAT_TEMPLATE_UNKNOWN) that
// llm_chat_detect_template(tmpl) returns (src/llama-chat.cpp). llama.h does not expose it, but
// libllama exports the C++ symbol; it takes a const std::string &, which this program lays out by
// hand (libstdc++'s __cxx11 ABI: data pointer, length, 16-byte local buffer or capacity). The
// function only reads the string (find, and std::map::at, which compares).
#define _DEFAULT_SOURCE
#include "llama.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *msg, const char *arg) {
    fprintf(stderr, "chat-template: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(1);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory", NULL);
    return p;
}

// ---------------------------------------------------------------------------------------------
// llm_chat_detect_template through its exported C++ symbol

typedef struct {
    const char *data;
    size_t size;
    union {
        char local[16];
        size_t capacity;
    } u;
} cxx_string;

extern int llm_chat_detect_template_cxx(const cxx_string *tmpl)
    __asm__("_Z24llm_chat_detect_templateRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE");

static int detect(const char *tmpl) {
    cxx_string s;
    size_t n = strlen(tmpl);
    memset(&s, 0, sizeof s);
    s.size = n;
    if (n < sizeof s.u.local) {
        memcpy(s.u.local, tmpl, n + 1);
        s.data = s.u.local;
    } else {
        s.data = tmpl;
        s.u.capacity = n;
    }
    return llm_chat_detect_template_cxx(&s);
}

// The enumerators of llm_chat_template, in declaration order (their values), from llama-chat.h.
static char *enum_names[256];
static int enum_count;

static char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open", path);
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) die("out of memory", NULL);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        if (got == 0) break;
        n += got;
    }
    if (ferror(f)) die("cannot read", path);
    fclose(f);
    buf[n] = '\0';
    if (size) *size = n;
    return buf;
}

static void load_enum_names(const char *src) {
    char path[4096];
    snprintf(path, sizeof path, "%s/src/llama-chat.h", src);
    char *text = read_file(path, NULL);
    char *p = strstr(text, "enum llm_chat_template {");
    if (!p) die("no enum llm_chat_template in", path);
    char *end = strchr(p, '}');
    while ((p = strstr(p, "LLM_CHAT_TEMPLATE_")) != NULL && p < end) {
        size_t len = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
        if (enum_count == (int)(sizeof enum_names / sizeof enum_names[0])) die("too many enumerators", path);
        enum_names[enum_count] = xmalloc(len + 1);
        memcpy(enum_names[enum_count], p, len);
        enum_names[enum_count][len] = '\0';
        enum_count++;
        p += len;
    }
    free(text);
    if (enum_count < 2 || strcmp(enum_names[enum_count - 1], "LLM_CHAT_TEMPLATE_UNKNOWN") != 0)
        die("unexpected enum llm_chat_template in", path);
}

static const char *enum_name(int value) {
    if (value < 0 || value >= enum_count) die("detect returned an out-of-range value", NULL);
    return enum_names[value];
}

// ---------------------------------------------------------------------------------------------
// The conversations

typedef struct {
    const char *name;
    int n;
    llama_chat_message msgs[8];
} conversation;

static const conversation conversations[] = {
    { "system-user", 2, {
        { "system", "You are a helpful assistant." },
        { "user", "Hello!" } } },
    { "user", 1, {
        { "user", "What is 2+2?" } } },
    // tests/test-chat-template.cpp's conversation
    { "llamacpp-test", 6, {
        { "system", "You are a helpful assistant" },
        { "user", "Hello" },
        { "assistant", "Hi there" },
        { "user", "Who are you" },
        { "assistant", "   I am an assistant   " },
        { "user", "Another question" } } },
    { "no-system", 5, {
        { "user", "Tell me a story." },
        { "assistant", "Once upon a time, there was a cat." },
        { "user", "What was its name?" },
        { "assistant", "Its name was Tom." },
        { "user", "Thanks" } } },
    { "ends-with-assistant", 3, {
        { "system", "Be brief." },
        { "user", "Hi" },
        { "assistant", "Hello! How can I help?" } } },
    { "assistant-first", 2, {
        { "assistant", "How can I help you today?" },
        { "user", "Write a haiku." } } },
    { "system-only", 1, {
        { "system", "You are a pirate." } } },
    { "empty-list", 0, { { NULL, NULL } } },
    { "empty-content", 4, {
        { "system", "" },
        { "user", "" },
        { "assistant", "" },
        { "user", "" } } },
    // isspace's six ASCII bytes around and inside the content; llama.cpp's trim takes only those
    { "whitespace", 4, {
        { "system", " \t\n\v\f\r system \t with\ttabs \r\n" },
        { "user", "\n\n  line one\n  line two  \n\n" },
        { "assistant", "\t answer \t" },
        { "user", "   " } } },
    // non-ASCII whitespace (U+00A0, U+2003, U+3000) is not trimmed by llama.cpp
    { "unicode", 4, {
        { "system", "Tu es un assistant serviable. \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x99\x82" },
        { "user", "\xC2\xA0\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82! \xC2\xBFQu\xC3\xA9 tal? na\xC3\xAFve caf\xC3\xA9 \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x98\x80\xE2\x80\x83" },
        { "assistant", "\xE3\x80\x80\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF \xF0\x9F\x91\x8B\xE3\x80\x80" },
        { "user", "\xD0\x95\xD1\x89\xD1\x91 \xD1\x80\xD0\xB0\xD0\xB7 \xF0\x9F\x9A\x80 \xE2\x88\x91 x\xC2\xB2" } } },
    // markup and quoting are passed through untouched
    { "special-text", 3, {
        { "system", "<|im_start|>system [INST] <<SYS>> {{ bos_token }} {% raw %}" },
        { "user", "Quote \"this\" and 'that', back\\slash, </s><|eot_id|>" },
        { "assistant", "<start_of_turn>model\n[/INST]</s>" } } },
    // several and late system messages (gemma, orion and others merge or skip them)
    { "systems", 5, {
        { "system", "First system." },
        { "user", "Hi" },
        { "system", "  Second system.  " },
        { "assistant", "Hello" },
        { "user", "Bye" } } },
    { "tool", 5, {
        { "user", "What is the weather in Paris?" },
        { "assistant", "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}" },
        { "tool", "  {\"temperature\": 21}  " },
        { "assistant", "It is 21 degrees." },
        { "user", "And tomorrow?" } } },
};
#define N_CONVERSATIONS ((int)(sizeof conversations / sizeof conversations[0]))

// ---------------------------------------------------------------------------------------------
// JSON output

static FILE *out;

static void json_string(const char *s, size_t n) {
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (c < 0x20 || c == 0x7F) fprintf(out, "\\u%04x", c);
            else fputc(c, out);
        }
    }
    fputc('"', out);
}

static void json_cstr(const char *s) {
    if (s) json_string(s, strlen(s));
    else fputs("null", out);
}

static void open_out(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    out = fopen(path, "wb");
    if (!out) die("cannot create", path);
}

static void close_out(void) {
    if (ferror(out) || fclose(out) != 0) die("cannot write output", NULL);
}

// llama_chat_apply_template into a malloc'ed string; NULL when it returns < 0.
static char *apply(const char *tmpl, const conversation *c, bool add_ass, int32_t *size) {
    static const llama_chat_message dummy = { "user", "" };
    const llama_chat_message *msgs = c->n ? c->msgs : &dummy;
    int32_t len = 256;
    char *buf = xmalloc((size_t)len);
    int32_t res = llama_chat_apply_template(tmpl, msgs, (size_t)c->n, add_ass, buf, len);
    if (res >= len) {
        free(buf);
        len = res + 1;
        buf = xmalloc((size_t)len);
        res = llama_chat_apply_template(tmpl, msgs, (size_t)c->n, add_ass, buf, len);
    }
    if (res < 0) {
        free(buf);
        return NULL;
    }
    *size = res;
    return buf;
}

static void write_outputs(const char *tmpl, const char *indent) {
    fprintf(out, "%s\"outputs\": [", indent);
    for (int ci = 0; ci < N_CONVERSATIONS; ci++) {
        for (int a = 1; a >= 0; a--) {
            int32_t size = 0;
            char *text = apply(tmpl, &conversations[ci], a == 1, &size);
            fprintf(out, "%s\n%s  { \"conversation\": ", ci == 0 && a == 1 ? "" : ",", indent);
            json_cstr(conversations[ci].name);
            fprintf(out, ", \"add_ass\": %s, \"output\": ", a ? "true" : "false");
            if (text) json_string(text, (size_t)size);
            else fputs("null", out);
            fputs(" }", out);
            free(text);
        }
    }
    fprintf(out, "\n%s]", indent);
}

// ---------------------------------------------------------------------------------------------
// Templates to detect

typedef struct {
    const char *source;
    char *name;
    char *text;
} jinja;

static jinja *jinjas;
static int n_jinjas, cap_jinjas;

static void add_jinja(const char *source, const char *name, const char *text) {
    if (n_jinjas == cap_jinjas) {
        cap_jinjas = cap_jinjas ? cap_jinjas * 2 : 64;
        jinjas = realloc(jinjas, (size_t)cap_jinjas * sizeof *jinjas);
        if (!jinjas) die("out of memory", NULL);
    }
    jinjas[n_jinjas].source = source;
    jinjas[n_jinjas].name = strdup(name);
    jinjas[n_jinjas].text = strdup(text);
    n_jinjas++;
}

// Parses the C string literal(s) at *pp (optionally u8-prefixed, adjacent literals concatenated).
static char *parse_literal(const char **pp) {
    const char *p = *pp;
    size_t cap = 1024, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        if (p[0] == 'u' && p[1] == '8' && p[2] == '"') p += 2;
        if (*p != '"') break;
        p++;
        while (*p != '"') {
            if (*p == '\0' || *p == '\n') die("unterminated string literal", NULL);
            char c = *p++;
            if (c == '\\') {
                char e = *p++;
                switch (e) {
                case 'n': c = '\n'; break;
                case 't': c = '\t'; break;
                case 'r': c = '\r'; break;
                case 'v': c = '\v'; break;
                case 'f': c = '\f'; break;
                case 'a': c = '\a'; break;
                case 'b': c = '\b'; break;
                case '\\': case '"': case '\'': case '?': c = e; break;
                default: die("unsupported escape in string literal", NULL);
                }
            }
            if (n + 2 >= cap) {
                cap *= 2;
                buf = realloc(buf, cap);
                if (!buf) die("out of memory", NULL);
            }
            buf[n++] = c;
        }
        p++;
    }
    if (n == 0 && p == *pp) die("expected a string literal", NULL);
    buf[n] = '\0';
    *pp = p;
    return buf;
}

// The `/* .name= */ "..."` and `/* .template_str= */ "..."` (or U8C("...")) pairs of the test
// cases, skipping commented-out lines.
static void load_test_templates(const char *src) {
    static const char source[] = "tests/test-chat-template.cpp";
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", src, source);
    char *text = read_file(path, NULL);
    char *name = NULL;
    for (const char *p = text; *p; ) {
        const char *line = p;
        const char *eol = strchr(p, '\n');
        if (!eol) eol = p + strlen(p);
        const char *q = line;
        while (*q == ' ' || *q == '\t') q++;
        if (strncmp(q, "//", 2) != 0) {
            const char *field = NULL;
            if (strncmp(q, "/* .name= */", 12) == 0) field = "name";
            else if (strncmp(q, "/* .template_str", 16) == 0) field = "template";
            if (field) {
                q = strstr(q, "*/") + 2;
                while (*q == ' ') q++;
                bool u8c = strncmp(q, "U8C(", 4) == 0;
                if (u8c) q += 4;
                char *value = parse_literal(&q);
                if (strcmp(field, "name") == 0) {
                    free(name);
                    name = value;
                } else {
                    if (!name) die("template before name in", path);
                    add_jinja(source, name, value);
                    free(value);
                    free(name);
                    name = NULL;
                }
                eol = strchr(q, '\n');
                if (!eol) eol = q + strlen(q);
            }
        }
        p = *eol ? eol + 1 : eol;
    }
    free(text);
    if (n_jinjas < 20) die("too few templates found in", path);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_model_templates(const char *src) {
    static const char source[] = "models/templates";
    char dir_path[4096];
    snprintf(dir_path, sizeof dir_path, "%s/%s", src, source);
    DIR *dir = opendir(dir_path);
    if (!dir) die("cannot open", dir_path);
    char *names[1024];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 6 && strcmp(e->d_name + len - 6, ".jinja") == 0) {
            if (n == 1024) die("too many templates in", dir_path);
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(dir);
    qsort(names, (size_t)n, sizeof names[0], compare_names);
    for (int i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir_path, names[i]);
        size_t size;
        char *text = read_file(path, &size);
        if (strlen(text) != size) die("NUL byte in", path);
        add_jinja(source, names[i], text);
        free(text);
        free(names[i]);
    }
    if (n == 0) die("no .jinja files in", dir_path);
}

// ---------------------------------------------------------------------------------------------

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: chat-template LLAMA_CPP_SOURCE OUT_DIR\n");
        return 2;
    }
    const char *src = argv[1], *dir = argv[2];
    load_enum_names(src);

    int32_t n_builtin = llama_chat_builtin_templates(NULL, 0);
    if (n_builtin <= 0) die("llama_chat_builtin_templates returned no names", NULL);
    const char **builtin = xmalloc((size_t)n_builtin * sizeof *builtin);
    llama_chat_builtin_templates(builtin, (size_t)n_builtin);

    open_out(dir, "builtin.json");
    fputs("{\n  \"llama_cpp\": \"libllama of node-llama-cpp 3.22.1 (llama.cpp release v0.5.0)\",\n", out);
    fputs("  \"builtin_templates\": [", out);
    for (int i = 0; i < n_builtin; i++) {
        fputs(i ? ", " : "", out);
        json_cstr(builtin[i]);
    }
    fputs("],\n  \"conversations\": [", out);
    for (int ci = 0; ci < N_CONVERSATIONS; ci++) {
        const conversation *c = &conversations[ci];
        fprintf(out, "%s\n    { \"name\": ", ci ? "," : "");
        json_cstr(c->name);
        fputs(", \"messages\": [", out);
        for (int m = 0; m < c->n; m++) {
            fputs(m ? ", " : "", out);
            fputs("{ \"role\": ", out);
            json_cstr(c->msgs[m].role);
            fputs(", \"content\": ", out);
            json_cstr(c->msgs[m].content);
            fputs(" }", out);
        }
        fputs("] }", out);
    }
    fputs("\n  ],\n  \"templates\": [", out);
    for (int i = 0; i < n_builtin; i++) {
        fprintf(out, "%s\n    {\n      \"name\": ", i ? "," : "");
        json_cstr(builtin[i]);
        fputs(",\n      \"detected\": ", out);
        json_cstr(enum_name(detect(builtin[i])));
        fputs(",\n", out);
        write_outputs(builtin[i], "      ");
        fputs("\n    }", out);
    }
    fputs("\n  ]\n}\n", out);
    close_out();

    // Probes: name matching (exact and case-sensitive; "mistral" as a prefix), and the smallest
    // texts that reach each branch of the heuristics, in pairs where an earlier branch must win.
    static const char *probes[] = {
        "", "INVALID TEMPLATE", "ChatML", "chatml ", " chatml", "llama-2", "dots1", "Mistral",
        "mistral", "mistral-v2", "mistral-nemo", "mistral-v7-tekken", "gemma2", "phi-3",
        "<|im_start|>", "<|im_start|><|im_sep|>", "<|im_start|><end_of_utterance>",
        "<|im_start|><|im_sep|><end_of_utterance>", "<|im_start|>[INST]<|start_header_id|><|end_header_id|>",
        "mistral<|im_start|>", "mistral[SYSTEM_PROMPT]", "mistral ' [INST] ' + system_message",
        "[INST][SYSTEM_PROMPT]", "[INST]' [INST] ' + system_message", "[AVAILABLE_TOOLS] [INST]",
        "[AVAILABLE_TOOLS]\"[INST]\"", "[AVAILABLE_TOOLS][INST]", "[INST][SYSTEM_PROMPT][AVAILABLE_TOOLS]",
        "[INST]<<SYS>>", "[INST]<<SYS>>bos_token + '[INST]", "[INST]<<SYS>>bos_token + '[INST]content.strip()",
        "[INST]", "<|assistant|><|end|>", "<|assistant|><|end|>[gMASK]<sop>", "[gMASK]<sop>",
        "[gMASK]<sop><|assistant|><|user|>", "<|assistant|><|user|>", "<|assistant|><|user|></s>",
        "<|assistant|><|user|></s><|tool_declare|>", "<|{{ item['role'] }}|><|begin_of_image|>",
        "<|user|><|endoftext|>", "<|user|><|endoftext|><|assistant|>", "bos_token + message['role']",
        "<start_of_turn>", "bos_token + message['role']<start_of_turn>",
        "'\\n\\nAssistant: ' + eos_token", "GPT4 Correct ", "USER: ASSISTANT: ", "USER: ASSISTANT: SYSTEM: ",
        "USER: ASSISTANT:", "### Instruction:<|EOT|>", "### Instruction:",
        "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>", "<|start_header_id|><|end_header_id|>",
        "<|start_header_id|>", "[gMASK]sop", "<用户>", "'Assistant: ' + message['content'] + eos_token",
        "<｜Assistant｜><｜User｜><｜end▁of▁sentence｜>", "<｜Assistant｜><｜User｜>",
        "[|system|][|assistant|][|endofturn|]", "[|system|][|assistant|][|endofturn|][|tool|]",
        "my rwkv-world template", "{{- 'User: ' + message['content']|trim + '\\n\\n' -}}",
        "<|start_of_role|>", "<|start_of_role|><tool_call>", "<|start_of_role|><tools>",
        "<|start_of_role|><tools>g4_default_system_message", "<tools>g4_default_system_message",
        "message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]",
        "<|role_start|>", " Ассистент:", "Ассистент:", "<role>ASSISTANT</role>'HUMAN'",
        "<role>ASSISTANT</role>\"HUMAN\"<think>", "<role>ASSISTANT</role>\"HUMAN\"",
        "<role>ASSISTANT</role>'HUMAN'<role>HUMAN</role><|role_end|>",
        "<role>ASSISTANT</role><role>HUMAN</role><|role_end|>", "<|header_start|><|header_end|>",
        "<|endofuserprompt|>", "<|extra_0|><|extra_4|>", "<|start|><|channel|>",
        "<｜hy_Assistant｜><｜hy_begin▁of▁sentence｜>", "<｜hy_Assistant｜><｜hy_place▁holder▁no▁3｜>",
        "<｜hy_Assistant｜><｜hy_begin▁of▁sentence｜><｜hy_place▁holder▁no▁3｜>",
        "<|im_assistant|>assistant<|im_middle|>", "<seed:bos>",
        "'Assistant: '  + message['content'] + '<|separator|>", "[unused9]系统：[unused10]",
        "<|begin|><|end|><|content|>", "<|begin|><|end|><|content|><|assistant|>",
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) add_jinja("probe", probes[i], probes[i]);
    // tokenizer.chat_template of small models TinyLM targets that llama.cpp's tree lacks (Hugging Face
    // tokenizer_config.json, JSON escapes decoded)
    static const char *small_models[][2] = {
        { "HuggingFaceH4/zephyr-7b-beta, TinyLlama/TinyLlama-1.1B-Chat-v1.0",
          "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n"
          "{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n"
          "{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n"
          "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}" },
        { "HuggingFaceTB/SmolLM2-135M-Instruct",
          "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
          "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}"
          "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}" },
    };
    for (size_t i = 0; i < sizeof small_models / sizeof small_models[0]; i++)
        add_jinja("huggingface", small_models[i][0], small_models[i][1]);
    load_test_templates(src);
    load_model_templates(src);

    // The enumerator of each built-in name, to check the detection against the public API.
    int *builtin_enum = xmalloc((size_t)n_builtin * sizeof *builtin_enum);
    for (int i = 0; i < n_builtin; i++) builtin_enum[i] = detect(builtin[i]);

    open_out(dir, "detect.json");
    fputs("{\n  \"llama_cpp\": \"libllama of node-llama-cpp 3.22.1 (llama.cpp release v0.5.0)\",\n", out);
    fputs("  \"templates\": [", out);
    int n_unnamed = 0;
    for (int i = 0; i < n_jinjas; i++) {
        const char *text = jinjas[i].text;
        int e = detect(text);
        const char *named = NULL;
        for (int k = 0; k < n_builtin; k++)
            if (builtin_enum[k] == e) named = builtin[k];
        bool unknown = strcmp(enum_name(e), "LLM_CHAT_TEMPLATE_UNKNOWN") == 0;
        // Through the public API, the template text must format exactly as the built-in name of
        // the detected template does (or fail, when unknown).
        if (named || unknown) {
            for (int ci = 0; ci < N_CONVERSATIONS; ci++) {
                for (int a = 0; a < 2; a++) {
                    int32_t n1 = 0, n2 = 0;
                    char *t1 = apply(text, &conversations[ci], a, &n1);
                    char *t2 = unknown ? NULL : apply(named, &conversations[ci], a, &n2);
                    if ((t1 == NULL) != (t2 == NULL) || n1 != n2 || (t1 && memcmp(t1, t2, (size_t)n1) != 0))
                        die("llama_chat_apply_template disagrees with the detected template for", jinjas[i].name);
                    free(t1);
                    free(t2);
                }
            }
        }
        fprintf(out, "%s\n    {\n      \"source\": ", i ? "," : "");
        json_cstr(jinjas[i].source);
        fputs(",\n      \"name\": ", out);
        json_cstr(jinjas[i].name);
        fputs(",\n      \"template\": ", out);
        json_cstr(text);
        fputs(",\n      \"detected\": ", out);
        json_cstr(enum_name(e));
        fputs(",\n      \"builtin\": ", out);
        json_cstr(named);
        if (!named && !unknown) {
            // a template llama.cpp detects but cannot name (LLM_CHAT_TEMPLATE_DOTS1): its outputs
            fputs(",\n", out);
            write_outputs(text, "      ");
            n_unnamed++;
        }
        fputs("\n    }", out);
    }
    fputs("\n  ]\n}\n", out);
    close_out();

    fprintf(stderr, "chat-template: %d built-in templates, %d conversations, %d templates to detect"
            " (%d detected without a built-in name)\n", n_builtin, N_CONVERSATIONS, n_jinjas, n_unnamed);
    return 0;
}
