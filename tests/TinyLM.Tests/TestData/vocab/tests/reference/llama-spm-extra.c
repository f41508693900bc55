// llama-spm-extra: records what llama.cpp's SentencePiece tokenizer does with a vocab-only GGUF, for
// TinyLM's tokenizer tests. Reads inputs split like tests/test-tokenizer-0.cpp ("\n__ggml_vocab_test__\n")
// and writes one JSON object per line:
//   first line: {"n_vocab":..,"bos":..,"eos":..,"eog":[..],"attr":{"id":attr,...non-normal},"pieces":[fnv0,fnv1]}
//     pieces: FNV-1a 64 (hex) over every token's llama_token_to_piece bytes, each prefixed by its
//     uint32 LE length, for special=false and special=true (lstrip 0).
//   then per input: {"ff":[ids add_special=0 parse_special=0],"tf":[1,0],"tt":[1,1],"ft":[0,1],
//     "d_ff":hex(detokenize(ff, remove_special=1, unparse_special=0)),
//     "d_tf":hex(detokenize(tf, 1, 0)), "d_tt":hex(detokenize(tt, 0, 1))}
// Build: gcc -O2 -o llama-spm-extra llama-spm-extra.c -I<llama.cpp>/include -I<llama.cpp>/ggml/include
//        -L<bins> -l:libllama.v0.5.0.so -l:libggml.v0.5.0.so -l:libggml-base.so -Wl,-rpath,<bins>
// Run in TestData/vocab/tests (bins: tools/llamacpp/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64 after setup.sh):
//        python3 reference/make-llama-spm-extra-inp.py
//        ./llama-spm-extra <llama.cpp>/models/ggml-vocab-llama-spm.gguf llama-spm-extra.inp > llama-spm-extra.jsonl
#include "llama.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

static const struct llama_vocab *vocab;

static void ids_json(const char *key, const char *s, int n, bool add, bool parse, llama_token **out, int *nout) {
    int k = llama_tokenize(vocab, s, n, NULL, 0, add, parse);
    if (k < 0) k = -k;
    llama_token *t = malloc(sizeof(llama_token) * (k + 1));
    int r = llama_tokenize(vocab, s, n, t, k, add, parse);
    if (r != k) { fprintf(stderr, "tokenize mismatch\n"); exit(1); }
    printf("\"%s\":[", key);
    for (int i = 0; i < k; i++) printf(i ? ",%d" : "%d", t[i]);
    printf("]");
    *out = t; *nout = k;
}

static void detok_json(const char *key, llama_token *t, int n, bool remove_special, bool unparse) {
    int cap = 16 * n + 16;
    char *buf = malloc(cap);
    int r = llama_detokenize(vocab, t, n, buf, cap, remove_special, unparse);
    if (r < 0) { cap = -r; buf = realloc(buf, cap); r = llama_detokenize(vocab, t, n, buf, cap, remove_special, unparse); }
    printf("\"%s\":\"", key);
    for (int i = 0; i < r; i++) printf("%02x", (unsigned char)buf[i]);
    printf("\"");
    free(buf);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: llama-spm-extra VOCAB.gguf INPUTS\n"); return 1; }
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "cannot load\n"); return 1; }
    vocab = llama_model_get_vocab(model);
    int nv = llama_vocab_n_tokens(vocab);

    printf("{\"n_vocab\":%d,\"bos\":%d,\"eos\":%d,\"eog\":[", nv, llama_vocab_bos(vocab), llama_vocab_eos(vocab));
    int first = 1;
    for (int i = 0; i < nv; i++) if (llama_vocab_is_eog(vocab, i)) { printf(first ? "%d" : ",%d", i); first = 0; }
    printf("],\"attr\":{");
    first = 1;
    for (int i = 0; i < nv; i++) {
        int a = llama_vocab_get_attr(vocab, i);
        if (a != LLAMA_TOKEN_ATTR_NORMAL) { printf(first ? "\"%d\":%d" : ",\"%d\":%d", i, a); first = 0; }
    }
    printf("},\"pieces\":[");
    for (int special = 0; special < 2; special++) {
        uint64_t h = 1469598103934665603ULL;
        char buf[256];
        for (int i = 0; i < nv; i++) {
            int r = llama_token_to_piece(vocab, i, buf, sizeof buf, 0, special);
            if (r < 0) { fprintf(stderr, "piece too long\n"); return 1; }
            unsigned char len[4] = { r & 255, (r >> 8) & 255, (r >> 16) & 255, (r >> 24) & 255 };
            for (int j = 0; j < 4; j++) { h ^= len[j]; h *= 1099511628211ULL; }
            for (int j = 0; j < r; j++) { h ^= (unsigned char)buf[j]; h *= 1099511628211ULL; }
        }
        printf(special ? ",\"%016llx\"" : "\"%016llx\"", (unsigned long long)h);
    }
    printf("]}\n");

    FILE *f = fopen(argv[2], "rb");
    if (!f) { fprintf(stderr, "cannot open inputs\n"); return 1; }
    fseek(f, 0, SEEK_END); long size = ftell(f); fseek(f, 0, SEEK_SET);
    char *raw = malloc(size + 1);
    if (fread(raw, 1, size, f) != (size_t)size) return 1;
    fclose(f);
    const char *sep = "\n__ggml_vocab_test__\n";
    size_t seplen = strlen(sep);
    long pos = 0;
    while (pos < size) {
        char *next = NULL;
        for (long i = pos; i + (long)seplen <= size; i++) if (memcmp(raw + i, sep, seplen) == 0) { next = raw + i; break; }
        long end = next ? next - raw : size;
        const char *s = raw + pos; int n = (int)(end - pos);
        llama_token *t; int k;
        printf("{");
        ids_json("ff", s, n, false, false, &t, &k); printf(","); detok_json("d_ff", t, k, true, false); free(t); printf(",");
        ids_json("tf", s, n, true, false, &t, &k); printf(","); detok_json("d_tf", t, k, true, false); free(t); printf(",");
        ids_json("tt", s, n, true, true, &t, &k); printf(","); detok_json("d_tt", t, k, false, true); free(t); printf(",");
        ids_json("ft", s, n, false, true, &t, &k); free(t);
        printf("}\n");
        if (!next) break;
        pos = end + seplen;
    }
    llama_model_free(model);
    return 0;
}
