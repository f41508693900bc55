// llama-reference: runs a GGUF model through the prebuilt llama.cpp (libllama from node-llama-cpp)
// and records what TinyLM is checked against: the prompt's token ids, the logits llama.cpp computes
// for the prompt (last position, or every position), and the greedy continuation with its logits.
//
//   llama-reference MODEL PROMPT N_PREDICT OUT_PREFIX [--all-prompt-logits] [--step-logits K]
//                   [--ctx N] [--threads N] [--tokens "ID ID ..."]
//
// --tokens evaluates the given token ids as the prompt instead of tokenizing PROMPT.
// --dump DIR writes every F32 intermediate of the prompt's graph (llama.cpp's names, e.g.
// attn_norm-0, Qcur-0, ffn_out-3) to DIR/NAME.f32, to diff TinyLM layer by layer.
//
// Writes OUT_PREFIX.json (token ids, text, shapes) and OUT_PREFIX.logits.bin (float32 rows, little
// endian: the prompt rows first, then one row per recorded generation step).
// The context uses an F32 KV cache and no flash attention, so that llama.cpp's attention runs in
// float32 like TinyLM's; greedy decoding takes the first index of the maximum logit.
#include "llama.h"
#include "ggml-backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quiet_log(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static const char *dump_dir = NULL;

static bool dump_tensor(struct ggml_tensor *t, bool ask, void *user) {
    (void)user;
    if (ask) return t->type == GGML_TYPE_F32 && ggml_is_contiguous(t);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.f32", dump_dir, t->name);
    for (char *c = path + strlen(dump_dir) + 1; *c; c++) if (*c == ' ' || *c == '/' || *c == '(' || *c == ')') *c = '_';
    FILE *f = fopen(path, "wb");
    if (f) { fwrite(t->data, 1, ggml_nbytes(t), f); fclose(f); }
    return true;
}

static void die(const char *msg) { fprintf(stderr, "llama-reference: %s\n", msg); exit(1); }

static void json_string(FILE *f, const char *s, int n) {
    fputc('"', f);
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') { fputc('\\', f); fputc(c, f); }
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static int argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) if (v[i] > v[best]) best = i;
    return best;
}

int main(int argc, char **argv) {
    if (argc < 5) die("usage: llama-reference MODEL PROMPT N_PREDICT OUT_PREFIX [--all-prompt-logits] [--step-logits K] [--ctx N] [--threads N]");
    const char *model_path = argv[1], *prompt = argv[2], *prefix = argv[4];
    int n_predict = atoi(argv[3]);
    int all_prompt_logits = 0, step_logits = 0, n_ctx = 512, n_threads = 1;
    const char *token_list = NULL;
    const char *cpu_variant = NULL;
    for (int i = 5; i < argc; i++) {
        if (!strcmp(argv[i], "--all-prompt-logits")) all_prompt_logits = 1;
        else if (!strcmp(argv[i], "--step-logits") && i + 1 < argc) step_logits = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--ctx") && i + 1 < argc) n_ctx = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) n_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--tokens") && i + 1 < argc) token_list = argv[++i];
        else if (!strcmp(argv[i], "--dump") && i + 1 < argc) dump_dir = argv[++i];
        else if (!strcmp(argv[i], "--cpu-variant") && i + 1 < argc) cpu_variant = argv[++i];
        else die("unknown option");
    }

    llama_log_set(quiet_log, NULL);
    if (cpu_variant) {
        char lib[4096];
        snprintf(lib, sizeof lib, "%s/libggml-cpu-%s.so", LLAMACPP_BINS, cpu_variant);
        if (!ggml_backend_load(lib)) die("cannot load the requested CPU variant");
    } else {
        ggml_backend_load_all_from_path(LLAMACPP_BINS);
    }
    llama_backend_init();

    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    struct llama_model *model = llama_model_load_from_file(model_path, mp);
    if (!model) die("llama.cpp could not load the model");
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);

    int n_prompt;
    llama_token *tokens;
    if (token_list) {
        n_prompt = 0;
        tokens = malloc(sizeof(llama_token) * (strlen(token_list) + n_predict + 1));
        for (char *p = (char *)token_list, *end; *p; p = end) {
            long v = strtol(p, &end, 10);
            if (end == p) break;
            if (v < 0 || v >= n_vocab) die("token id out of range");
            tokens[n_prompt++] = (llama_token)v;
        }
        if (n_prompt == 0) die("empty --tokens");
    } else {
        n_prompt = -llama_tokenize(vocab, prompt, (int)strlen(prompt), NULL, 0, true, false);
        tokens = malloc(sizeof(llama_token) * (n_prompt + n_predict + 1));
        if (llama_tokenize(vocab, prompt, (int)strlen(prompt), tokens, n_prompt, true, false) != n_prompt) die("tokenize failed");
    }

    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = n_ctx;
    cp.n_batch = n_ctx;
    cp.n_ubatch = n_ctx;
    cp.n_threads = n_threads;
    cp.n_threads_batch = n_threads;
    cp.type_k = GGML_TYPE_F32;
    cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.no_perf = true;
    if (dump_dir) { cp.cb_eval = dump_tensor; cp.cb_eval_user_data = NULL; }
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) die("llama.cpp could not create a context");

    char path[4096];
    snprintf(path, sizeof path, "%s.logits.bin", prefix);
    FILE *fl = fopen(path, "wb");
    if (!fl) die("cannot write logits file");

    struct llama_batch batch = llama_batch_init(n_prompt, 0, 1);
    for (int i = 0; i < n_prompt; i++) {
        batch.token[i] = tokens[i];
        batch.pos[i] = i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = all_prompt_logits || i == n_prompt - 1;
    }
    batch.n_tokens = n_prompt;
    if (llama_decode(ctx, batch)) die("prompt decode failed");
    if (dump_dir) { llama_free(ctx); llama_model_free(model); return 0; }
    int prompt_rows = 0;
    for (int i = 0; i < n_prompt; i++) {
        if (!batch.logits[i]) continue;
        fwrite(llama_get_logits_ith(ctx, i), sizeof(float), n_vocab, fl);
        prompt_rows++;
    }
    llama_batch_free(batch);

    const float *logits = llama_get_logits_ith(ctx, -1);
    int n_gen = 0, step_rows = 0;
    char text[65536];
    int text_len = 0;
    while (n_gen < n_predict) {
        llama_token next = argmax(logits, n_vocab);
        tokens[n_prompt + n_gen++] = next;
        char piece[256];
        int n = llama_token_to_piece(vocab, next, piece, sizeof piece, 0, false);
        if (n > 0 && text_len + n < (int)sizeof text) { memcpy(text + text_len, piece, n); text_len += n; }
        if (llama_vocab_is_eog(vocab, next)) break;
        struct llama_batch one = llama_batch_get_one(&tokens[n_prompt + n_gen - 1], 1);
        if (llama_decode(ctx, one)) die("decode failed");
        logits = llama_get_logits_ith(ctx, -1);
        if (step_rows < step_logits && n_gen < n_predict) {
            fwrite(logits, sizeof(float), n_vocab, fl);
            step_rows++;
        }
    }
    fclose(fl);

    snprintf(path, sizeof path, "%s.json", prefix);
    FILE *fj = fopen(path, "w");
    if (!fj) die("cannot write json file");
    fprintf(fj, "{\n  \"peer\": \"llama.cpp v0.5.0 (node-llama-cpp 3.22.1 prebuilt linux-x64)\",\n");
    fprintf(fj, "  \"prompt\": ");
    json_string(fj, prompt, (int)strlen(prompt));
    fprintf(fj, ",\n  \"n_vocab\": %d,\n  \"prompt_tokens\": [", n_vocab);
    for (int i = 0; i < n_prompt; i++) fprintf(fj, "%s%d", i ? ", " : "", tokens[i]);
    fprintf(fj, "],\n  \"generated_tokens\": [");
    for (int i = 0; i < n_gen; i++) fprintf(fj, "%s%d", i ? ", " : "", tokens[n_prompt + i]);
    fprintf(fj, "],\n  \"generated_text\": ");
    json_string(fj, text, text_len);
    fprintf(fj, ",\n  \"prompt_logit_rows\": %d,\n  \"all_prompt_logits\": %s,\n  \"step_logit_rows\": %d\n}\n",
            prompt_rows, all_prompt_logits ? "true" : "false", step_rows);
    fclose(fj);

    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    free(tokens);
    return 0;
}
