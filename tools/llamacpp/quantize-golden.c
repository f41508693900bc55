// quantize-golden: quantizes a GGUF model with llama.cpp's own quantizer (llama_model_quantize of the
// prebuilt libllama from node-llama-cpp 3.22.1, llama.cpp release v0.5.0, no importance matrix) into
// each requested file type, and records what TinyLM's `tinylm quantize` must reproduce: every output
// tensor's name, ggml type, shape and a hash of its bytes, and a hash of the whole output file.
//
//   quantize-golden IN.gguf OUT.txt FTYPE...
//
// FTYPE is llama.cpp's name of a file type without the LLAMA_FTYPE_MOSTLY_ prefix, e.g. Q4_K_M, Q8_0,
// TQ1_0, F16 (ALL_F32 for LLAMA_FTYPE_ALL_F32). OUT.txt is text, one block per file type:
//
//   ftype Q4_K_M 15 file FNV BYTES          (or: ftype Q2_K_S 21 error, when llama.cpp refuses)
//   NAME TYPE NE0xNE1[...] FNV             one line per tensor, in file order
//
// FNV is the 64-bit FNV-1a hash (offset basis 0xcbf29ce484222325, prime 0x100000001b3) of the bytes,
// as 16 lower-case hex digits; TYPE is ggml_type_name. The quantized files are written next to
// OUT.txt as OUT.txt.tmp and deleted.
#include "llama.h"
#include "gguf.h"
#include "ggml.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *msg) { fprintf(stderr, "quantize-golden: %s\n", msg); exit(1); }

static void quiet_log(enum ggml_log_level level, const char *text, void *user) {
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 0x100000001b3ULL; }
    return h;
}

static const struct { const char *name; enum llama_ftype ftype; } FTYPES[] = {
    { "ALL_F32", LLAMA_FTYPE_ALL_F32 },     { "F16", LLAMA_FTYPE_MOSTLY_F16 },       { "BF16", LLAMA_FTYPE_MOSTLY_BF16 },
    { "Q4_0", LLAMA_FTYPE_MOSTLY_Q4_0 },    { "Q4_1", LLAMA_FTYPE_MOSTLY_Q4_1 },     { "Q5_0", LLAMA_FTYPE_MOSTLY_Q5_0 },
    { "Q5_1", LLAMA_FTYPE_MOSTLY_Q5_1 },    { "Q8_0", LLAMA_FTYPE_MOSTLY_Q8_0 },     { "Q2_K", LLAMA_FTYPE_MOSTLY_Q2_K },
    { "Q2_K_S", LLAMA_FTYPE_MOSTLY_Q2_K_S }, { "Q3_K_S", LLAMA_FTYPE_MOSTLY_Q3_K_S }, { "Q3_K_M", LLAMA_FTYPE_MOSTLY_Q3_K_M },
    { "Q3_K_L", LLAMA_FTYPE_MOSTLY_Q3_K_L }, { "Q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S }, { "Q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M },
    { "Q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S }, { "Q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M }, { "Q6_K", LLAMA_FTYPE_MOSTLY_Q6_K },
    { "TQ1_0", LLAMA_FTYPE_MOSTLY_TQ1_0 },  { "TQ2_0", LLAMA_FTYPE_MOSTLY_TQ2_0 },
};

int main(int argc, char **argv) {
    if (argc < 4) die("usage: quantize-golden IN.gguf OUT.txt FTYPE...");
    const char *in = argv[1], *out_path = argv[2];
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
    llama_log_set(quiet_log, NULL);
    llama_backend_init();
    FILE *out = fopen(out_path, "w");
    if (!out) die("cannot write the output file");

    for (int a = 3; a < argc; a++) {
        int found = -1;
        for (size_t k = 0; k < sizeof FTYPES / sizeof FTYPES[0]; k++)
            if (!strcmp(FTYPES[k].name, argv[a])) found = (int)k;
        if (found < 0) die("unknown file type");
        struct llama_model_quantize_params params = llama_model_quantize_default_params();
        params.ftype = FTYPES[found].ftype;
        params.nthread = 1;
        if (llama_model_quantize(in, tmp, &params) != 0) {
            fprintf(out, "ftype %s %d error\n", FTYPES[found].name, (int)FTYPES[found].ftype);
            remove(tmp);
            continue;
        }

        FILE *f = fopen(tmp, "rb");
        if (!f) die("cannot read the quantized file");
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        unsigned char *bytes = malloc((size_t)size);
        if (!bytes || fread(bytes, 1, (size_t)size, f) != (size_t)size) die("cannot read the quantized file");
        fclose(f);
        fprintf(out, "ftype %s %d file %016llx %ld\n", FTYPES[found].name, (int)FTYPES[found].ftype,
                (unsigned long long)fnv1a(0xcbf29ce484222325ULL, bytes, (size_t)size), size);

        struct gguf_init_params gp = { .no_alloc = true, .ctx = NULL };
        struct gguf_context *g = gguf_init_from_file(tmp, gp);
        if (!g) die("llama.cpp cannot read its own quantized file");
        size_t data = gguf_get_data_offset(g);
        for (int64_t t = 0; t < gguf_get_n_tensors(g); t++) {
            const int64_t *ne = gguf_get_tensor_ne(g, t);
            int dims = GGML_MAX_DIMS;
            while (dims > 1 && ne[dims - 1] == 1) dims--;
            fprintf(out, "%s %s ", gguf_get_tensor_name(g, t), ggml_type_name(gguf_get_tensor_type(g, t)));
            for (int d = 0; d < dims; d++) fprintf(out, d ? "x%lld" : "%lld", (long long)ne[d]);
            size_t off = data + gguf_get_tensor_offset(g, t), n = gguf_get_tensor_size(g, t);
            if (off + n > (size_t)size) die("tensor data beyond the end of the file");
            fprintf(out, " %016llx\n", (unsigned long long)fnv1a(0xcbf29ce484222325ULL, bytes + off, n));
        }
        gguf_free(g);
        free(bytes);
        remove(tmp);
    }
    fclose(out);
    llama_backend_free();
    return 0;
}
