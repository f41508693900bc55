// quant-golden: writes the byte-exact goldens that TinyLM's tensor-type tests compare against, all
// computed by the prebuilt llama.cpp (libggml-base and the baseline CPU backend libggml-cpu-x64 from
// node-llama-cpp 3.22.1, llama.cpp release v0.5.0).
//
//   quant-golden OUT_DIR
//
// Files (raw little-endian, no headers):
//   input.f32            512 floats in 16 blocks of 32: random rows at several scales and edge blocks
//                        (zeros, constants, huge, subnormal, rounding ties, infinities, NaN, random bits)
//   input2.f32           512 finite floats: the activation row for the dots
//   NAME.quant.bin       ggml_get_type_traits(type)->from_float_ref(input.f32)   (quantize_row_*_ref,
//                        ggml_fp32_to_fp16_row, ggml_fp32_to_bf16_row_ref)
//   NAME.dequant.f32     ->to_float(NAME.quant.bin)                                (absent for q8_1)
//   NAME.random.bin      8 blocks (256 elements) of random bytes; block scales are finite float16
//   NAME.random.dequant.f32  ->to_float(NAME.random.bin)                           (absent for q8_1)
//   NAME.dot.f32         for q4_0 q4_1 q5_0 q5_1 q8_0, 40 results of ggml_vec_dot_NAME_q8_X_generic:
//                        block k alone (k = 0..15) of NAME.quant.bin with from_float_ref(input2.f32)
//                        in the dot type; the first k = 1..16 blocks of the same rows; the first
//                        k = 1..8 blocks of NAME.random.bin with q8_X.random.bin
// NAME is ggml's type name (f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q8_1).
//
// Super-block types (q2_K q3_K q4_K q5_K q6_K q8_K tq1_0 tq2_0 iq4_nl), written after the files above
// (so those keep their bytes):
//   input_k.f32          5120 floats in 20 super-blocks of 256: random rows, mixed sub-block scales,
//                        one-signed rows, zero sub-blocks and the edge blocks above
//   input2_k.f32         5120 finite floats: the activation row for their dots
//   NAME.quant.bin       from_float_ref(input_k.f32) (quantize_row_*_ref); for every type but iq4_nl
//                        the tool checks that ggml_quantize_chunk (no importance matrix) writes the same
//   NAME.dequant.f32     ->to_float(NAME.quant.bin)
//   NAME.random.bin      2048 elements of random bytes; float16 fields (d, dmin) finite, q8_K's float d finite
//   NAME.random.dequant.f32  ->to_float(NAME.random.bin)
//   NAME.dot.f32         for every type but q8_K, 48 results of ggml_vec_dot_NAME_q8_K_generic
//                        (iq4_nl: _q8_0_generic): block k alone (k = 0..19) of NAME.quant.bin with the
//                        dot type's from_float_ref(input2_k.f32); the first k = 1..20 blocks of the same
//                        rows; the first k = 1..8 blocks of NAME.random.bin with q8_K.random.bin (iq4_nl:
//                        q8_0.random_k.bin, 2048 elements). The tool checks that the x64 backend's
//                        dispatched ggml_vec_dot_NAME_q8_K returns the same bits.
#include "ggml.h"

#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCKS 16
#define N (BLOCKS * 32)
#define RANDOM_BLOCKS 8
#define RANDOM_N (RANDOM_BLOCKS * 32)

typedef void (*vec_dot_fn)(int n, float *s, size_t bs, const void *vx, size_t bx, const void *vy, size_t by, int nrc);

static const char *out_dir;

static void die(const char *msg) { fprintf(stderr, "quant-golden: %s\n", msg); exit(1); }

static void write_file(const char *name, const void *data, size_t size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) die(path);
}

// Numerical Recipes LCG: deterministic across compilers and machines.
static uint32_t lcg_state = 20240601u;
static uint32_t lcg(void) { lcg_state = lcg_state * 1664525u + 1013904223u; return lcg_state; }
// Uniform in [-1, 1): a 24-bit integer scaled by a power of two, exact in float.
static float uniform(void) { return (float)((int32_t)(lcg() >> 8) - (1 << 23)) / (float)(1 << 23); }
static float from_bits(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }

static void make_input(float *x) {
    for (int b = 0; b < BLOCKS; b++) {
        float *v = x + 32 * b;
        for (int j = 0; j < 32; j++) {
            switch (b) {
            case 0: v[j] = 0.0f; break;                                  // zeros
            case 1: v[j] = 0.3f; break;                                  // all equal, positive
            case 2: v[j] = -1.7f; break;                                 // all equal, negative
            case 3: v[j] = uniform(); break;                             // random
            case 4: v[j] = uniform() * 0.0009765625f; break;             // random, small (2^-10)
            case 5: v[j] = uniform() * 1024.0f; break;                   // random, large
            case 6: v[j] = uniform() * 3.0e38f; break;                   // huge: max - min overflows
            case 7: v[j] = uniform() * 1.0e-39f; break;                  // float subnormals
            case 8: v[j] = uniform() * 1.0e-30f; break;                  // tiny normals
            case 9: v[j] = j == 0 ? 127.0f : (float)(j - 16) + 0.5f; break; // q8 ties: d = 1, x = k + 0.5
            case 10: v[j] = j == 7 ? 50.0f : uniform() * 0.01f; break;   // one outlier
            case 11: v[j] = (j % 2 ? 2.0f : -2.0f) * (j < 4 ? 1.0f : 0.25f); break; // equal |max|, sign order
            case 12: {                                                    // special values
                static const uint32_t specials[32] = {
                    0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, // ±0, ±inf
                    0x7FC00000u, 0xFFC12345u, 0x7F800001u, 0x7F7FFFFFu, // NaNs, FLT_MAX
                    0xFF7FFFFFu, 0x00800000u, 0x00000001u, 0x807FFFFFu, // -FLT_MAX, FLT_MIN, subnormals
                    0x477FE000u, 0x477FEFFFu, 0x477FF000u, 0x47800000u, // 65504, below/at fp16 overflow, 65536
                    0x33000000u, 0x33000001u, 0x387FC000u, 0x38800000u, // fp16 subnormal ties, min normal
                    0x3F801000u, 0x3F803000u, 0xBF801000u, 0x3F802000u, // fp16 ties to even (1 + 2^-11 ...)
                    0x3F808000u, 0x3F818000u, 0xBF808000u, 0x3F80FFFFu, // bf16 ties to even (1 + 2^-8 ...)
                    0x3F7FFFFFu, 0x40490FDBu, 0xC2F6E979u, 0x3EAAAAABu, // 1-ulp, pi, -123.456, 1/3
                };
                v[j] = from_bits(specials[j]);
                break;
            }
            case 13: v[j] = (float)((int)(lcg() >> 28) - 8) * 0.25f; break; // exact 4-bit levels
            case 14: v[j] = uniform() * 9.5367431640625e-07f; break;      // random, 2^-20
            default: v[j] = from_bits(lcg()); break;                     // random bits (any class)
            }
        }
    }
}

static void make_input2(float *x) {
    for (int b = 0; b < BLOCKS; b++) {
        float scale = ldexpf(1.0f, (b % 7) - 3);
        for (int j = 0; j < 32; j++) x[32 * b + j] = uniform() * scale;
    }
}

static uint16_t random_scale(void) { return ggml_fp32_to_fp16(uniform() * ldexpf(1.0f, (int)(lcg() >> 29) - 4)); }

// Random blocks: every byte random, then the float16 scale fields (d; m or s) set to finite values.
static void make_random(enum ggml_type type, uint8_t *q) {
    const struct ggml_type_traits *tr = ggml_get_type_traits(type);
    size_t bytes = ggml_row_size(type, RANDOM_N);
    for (size_t i = 0; i < bytes; i++) q[i] = (uint8_t)(lcg() >> 24);
    if (!tr->is_quantized) return;
    int two_halves = type == GGML_TYPE_Q4_1 || type == GGML_TYPE_Q5_1 || type == GGML_TYPE_Q8_1;
    for (int b = 0; b < RANDOM_BLOCKS; b++) {
        uint8_t *block = q + b * tr->type_size;
        uint16_t h = random_scale();
        memcpy(block, &h, 2);
        if (two_halves) { h = random_scale(); memcpy(block + 2, &h, 2); }
    }
}


#define KBLOCKS 20
#define KN (KBLOCKS * 256)
#define KRANDOM_N 2048

static void make_input_k(float *x, const float *specials) {
    for (int b = 0; b < KBLOCKS; b++) {
        float *v = x + 256 * b;
        for (int j = 0; j < 256; j++) {
            switch (b) {
            case 0: v[j] = uniform(); break;                                     // random
            case 1: v[j] = uniform() * ldexpf(1.0f, (j / 16) % 8 - 4); break;   // per-16 scales 2^-4..2^3
            case 2: v[j] = uniform() * ldexpf(1.0f, -(j / 32) * 2); break;       // per-32 scales 1..2^-14
            case 3: v[j] = 0.5f + 0.5f * uniform(); break;                      // positive only
            case 4: v[j] = -0.25f + 0.2f * uniform(); break;                    // negative only
            case 5: v[j] = (j / 16) % 3 == 0 ? 0.0f : uniform(); break;          // zero 16-groups
            case 6: v[j] = j < 128 ? 0.0f : uniform() * 3.0f; break;             // zero first half
            case 7: v[j] = 0.0f; break;                                         // zeros
            case 8: v[j] = 0.3f; break;                                         // all equal, positive
            case 9: v[j] = -1.7f; break;                                        // all equal, negative
            case 10: v[j] = uniform() * 1024.0f; break;                         // random, large
            case 11: v[j] = uniform() * 0.0009765625f; break;                   // random, small
            case 12: v[j] = uniform() * 3.0e38f; break;                         // huge
            case 13: v[j] = uniform() * 1.0e-39f; break;                        // subnormals
            case 14: v[j] = uniform() * 1.0e-30f; break;                        // tiny normals
            case 15: v[j] = j % 37 == 5 ? 50.0f : uniform() * 0.01f; break;     // outliers
            case 16: v[j] = (j % 2 ? 2.0f : -2.0f) * (j < 4 ? 1.0f : 0.25f); break; // equal |max|, sign order
            case 17: v[j] = (float)((int)(lcg() >> 29) - 4) * 0.5f; break;      // exact 3-bit levels
            case 18: v[j] = (float)(0.1 + 2.0 * cos((double)(j + 256 * b))); break; // test-quantize-fns-like
            default: v[j] = j < 32 ? specials[j] : from_bits(lcg()); break;      // specials, then random bits
            }
        }
    }
}

static void make_input2_k(float *x) {
    for (int b = 0; b < KBLOCKS; b++)
        for (int j = 0; j < 256; j++) x[256 * b + j] = uniform() * ldexpf(1.0f, (b % 7) - 3 + ((j / 16) % 3));
}

// Offsets of the float16 fields of each super-block type (ggml-common.h layouts).
static void make_random_k(enum ggml_type type, uint8_t *q, size_t n) {
    const struct ggml_type_traits *tr = ggml_get_type_traits(type);
    size_t bytes = ggml_row_size(type, n);
    for (size_t i = 0; i < bytes; i++) q[i] = (uint8_t)(lcg() >> 24);
    int off[2] = { -1, -1 };
    switch (type) {
    case GGML_TYPE_Q2_K: off[0] = 80; off[1] = 82; break;
    case GGML_TYPE_Q3_K: off[0] = 108; break;
    case GGML_TYPE_Q4_K: case GGML_TYPE_Q5_K: off[0] = 0; off[1] = 2; break;
    case GGML_TYPE_Q6_K: off[0] = 208; break;
    case GGML_TYPE_TQ1_0: off[0] = 52; break;
    case GGML_TYPE_TQ2_0: off[0] = 64; break;
    case GGML_TYPE_IQ4_NL: case GGML_TYPE_Q8_0: off[0] = 0; break;
    default: break;
    }
    for (size_t b = 0; b < bytes / tr->type_size; b++) {
        uint8_t *block = q + b * tr->type_size;
        if (type == GGML_TYPE_Q8_K) {
            float d = uniform() * ldexpf(1.0f, (int)(lcg() >> 29) - 10);
            memcpy(block, &d, 4);
            continue;
        }
        for (int h = 0; h < 2; h++)
            if (off[h] >= 0) { uint16_t s = random_scale(); memcpy(block + off[h], &s, 2); }
    }
}

// ggml's type_traits has no from_float_ref/to_float for q8_K; libggml-base exports the functions.
void quantize_row_q8_K_ref(const float *x, void *y, int64_t k);
void dequantize_row_q8_K(const void *x, float *y, int64_t k);
static void k_from_float_ref(enum ggml_type type, const float *x, void *y, int64_t k) {
    if (type == GGML_TYPE_Q8_K) quantize_row_q8_K_ref(x, y, k);
    else ggml_get_type_traits(type)->from_float_ref(x, y, k);
}
static void k_to_float(enum ggml_type type, const void *x, float *y, int64_t k) {
    if (type == GGML_TYPE_Q8_K) dequantize_row_q8_K(x, y, k);
    else ggml_get_type_traits(type)->to_float(x, y, k);
}

static void k_types(void *cpu, const float *specials) {
    static float input[KN], input2[KN], dequant[KN];
    make_input_k(input, specials);
    make_input2_k(input2);
    write_file("input_k.f32", input, sizeof input);
    write_file("input2_k.f32", input2, sizeof input2);

    static const struct { enum ggml_type type, dot_type; const char *fn; } types[] = {
        { GGML_TYPE_Q8_K,   GGML_TYPE_COUNT, NULL },
        { GGML_TYPE_Q2_K,   GGML_TYPE_Q8_K, "ggml_vec_dot_q2_K_q8_K" },
        { GGML_TYPE_Q3_K,   GGML_TYPE_Q8_K, "ggml_vec_dot_q3_K_q8_K" },
        { GGML_TYPE_Q4_K,   GGML_TYPE_Q8_K, "ggml_vec_dot_q4_K_q8_K" },
        { GGML_TYPE_Q5_K,   GGML_TYPE_Q8_K, "ggml_vec_dot_q5_K_q8_K" },
        { GGML_TYPE_Q6_K,   GGML_TYPE_Q8_K, "ggml_vec_dot_q6_K_q8_K" },
        { GGML_TYPE_TQ1_0,  GGML_TYPE_Q8_K, "ggml_vec_dot_tq1_0_q8_K" },
        { GGML_TYPE_TQ2_0,  GGML_TYPE_Q8_K, "ggml_vec_dot_tq2_0_q8_K" },
        { GGML_TYPE_IQ4_NL, GGML_TYPE_Q8_0, "ggml_vec_dot_iq4_nl_q8_0" },
    };
    static uint8_t quant[KN * 2], chunk[KN * 2], random[KRANDOM_N * 2], act[KN * 2];
    static uint8_t q8k_random[KRANDOM_N * 2], q80_random[KRANDOM_N * 2];
    char name[256];

    make_random_k(GGML_TYPE_Q8_0, q80_random, KRANDOM_N);
    write_file("q8_0.random_k.bin", q80_random, ggml_row_size(GGML_TYPE_Q8_0, KRANDOM_N));

    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        enum ggml_type type = types[t].type;
        const struct ggml_type_traits *tr = ggml_get_type_traits(type);
        size_t bytes = ggml_row_size(type, KN);

        memset(quant, 0, sizeof quant);
        k_from_float_ref(type, input, quant, KN);
        snprintf(name, sizeof name, "%s.quant.bin", tr->type_name);
        write_file(name, quant, bytes);
        if (type == GGML_TYPE_Q8_K) { // the CPU backend's from_float (what mul_mat runs) must be the reference
            void (*cpu_q8_K)(const float *, void *, int64_t);
            *(void **)(&cpu_q8_K) = dlsym(cpu, "quantize_row_q8_K");
            if (!cpu_q8_K) die("quantize_row_q8_K");
            memset(chunk, 0, sizeof chunk);
            cpu_q8_K(input, chunk, KN);
            if (memcmp(chunk, quant, bytes) != 0) die("q8_K: quantize_row_q8_K differs from quantize_row_q8_K_ref");
        } else if (type != GGML_TYPE_IQ4_NL) {
            memset(chunk, 0, sizeof chunk);
            ggml_quantize_chunk(type, input, chunk, 0, KBLOCKS, 256, NULL);
            if (memcmp(chunk, quant, bytes) != 0) { fprintf(stderr, "quant-golden: %s: ggml_quantize_chunk differs from quantize_row_*_ref\n", tr->type_name); exit(1); }
        }

        uint8_t *rnd = type == GGML_TYPE_Q8_K ? q8k_random : random;
        make_random_k(type, rnd, KRANDOM_N);
        snprintf(name, sizeof name, "%s.random.bin", tr->type_name);
        write_file(name, rnd, ggml_row_size(type, KRANDOM_N));

        k_to_float(type, quant, dequant, KN);
        snprintf(name, sizeof name, "%s.dequant.f32", tr->type_name);
        write_file(name, dequant, sizeof(float) * KN);
        k_to_float(type, rnd, dequant, KRANDOM_N);
        snprintf(name, sizeof name, "%s.random.dequant.f32", tr->type_name);
        write_file(name, dequant, sizeof(float) * KRANDOM_N);

        if (!types[t].fn) continue;
        char generic[256];
        snprintf(generic, sizeof generic, "%s_generic", types[t].fn);
        vec_dot_fn fn, dispatched;
        *(void **)(&fn) = dlsym(cpu, generic);
        *(void **)(&dispatched) = dlsym(cpu, types[t].fn);
        if (!fn) die(generic);
        if (!dispatched) die(types[t].fn);
        enum ggml_type dt = types[t].dot_type;
        k_from_float_ref(dt, input2, act, KN);
        int bs = (int)tr->blck_size;
        size_t wb = ggml_row_size(type, bs), ab = ggml_row_size(dt, bs);
        const uint8_t *ract = dt == GGML_TYPE_Q8_K ? q8k_random : q80_random;
        float out[2 * KBLOCKS + 8], check;
        for (int k = 0; k < KBLOCKS; k++)
            fn(bs, &out[k], 0, quant + k * wb, 0, act + k * ab, 0, 1);
        for (int k = 1; k <= KBLOCKS; k++)
            fn(bs * k, &out[KBLOCKS + k - 1], 0, quant, 0, act, 0, 1);
        for (int k = 1; k <= 8; k++)
            fn(bs * k, &out[2 * KBLOCKS + k - 1], 0, rnd, 0, ract, 0, 1);
        for (int k = 1; k <= KBLOCKS; k++) {
            dispatched(bs * k, &check, 0, quant, 0, act, 0, 1);
            if (memcmp(&check, &out[KBLOCKS + k - 1], sizeof check) != 0) { fprintf(stderr, "quant-golden: %s differs from %s\n", types[t].fn, generic); exit(1); }
        }
        snprintf(name, sizeof name, "%s.dot.f32", tr->type_name);
        write_file(name, out, sizeof out);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) die("usage: quant-golden OUT_DIR");
    out_dir = argv[1];

    void *cpu = dlopen(LLAMACPP_BINS "/libggml-cpu-x64.so", RTLD_NOW | RTLD_LOCAL);
    if (!cpu) die(dlerror());
    void (*cpu_init)(void);
    *(void **)(&cpu_init) = dlsym(cpu, "ggml_cpu_init");
    if (!cpu_init) die("ggml_cpu_init not found");
    cpu_init(); // fills the float16 table that the generic dots read

    static float input[N], input2[N], dequant[N];
    make_input(input);
    make_input2(input2);
    write_file("input.f32", input, sizeof input);
    write_file("input2.f32", input2, sizeof input2);

    static const enum ggml_type types[] = {
        GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q8_0, GGML_TYPE_Q8_1,
        GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0, GGML_TYPE_Q5_1,
    };
    static uint8_t quant[GGML_TYPE_COUNT][N * 4], random[GGML_TYPE_COUNT][RANDOM_N * 4];
    char name[256];

    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        enum ggml_type type = types[t];
        const struct ggml_type_traits *tr = ggml_get_type_traits(type);
        size_t bytes = ggml_row_size(type, N), random_bytes = ggml_row_size(type, RANDOM_N);

        tr->from_float_ref(input, quant[type], N);
        snprintf(name, sizeof name, "%s.quant.bin", tr->type_name);
        write_file(name, quant[type], bytes);

        make_random(type, random[type]);
        snprintf(name, sizeof name, "%s.random.bin", tr->type_name);
        write_file(name, random[type], random_bytes);

        if (tr->to_float) {
            tr->to_float(quant[type], dequant, N);
            snprintf(name, sizeof name, "%s.dequant.f32", tr->type_name);
            write_file(name, dequant, sizeof(float) * N);
            tr->to_float(random[type], dequant, RANDOM_N);
            snprintf(name, sizeof name, "%s.random.dequant.f32", tr->type_name);
            write_file(name, dequant, sizeof(float) * RANDOM_N);
        }
    }

    static const struct { enum ggml_type type, dot_type; const char *fn; } dots[] = {
        { GGML_TYPE_Q4_0, GGML_TYPE_Q8_0, "ggml_vec_dot_q4_0_q8_0_generic" },
        { GGML_TYPE_Q4_1, GGML_TYPE_Q8_1, "ggml_vec_dot_q4_1_q8_1_generic" },
        { GGML_TYPE_Q5_0, GGML_TYPE_Q8_0, "ggml_vec_dot_q5_0_q8_0_generic" },
        { GGML_TYPE_Q5_1, GGML_TYPE_Q8_1, "ggml_vec_dot_q5_1_q8_1_generic" },
        { GGML_TYPE_Q8_0, GGML_TYPE_Q8_0, "ggml_vec_dot_q8_0_q8_0_generic" },
    };
    static uint8_t act[N * 4];
    for (size_t d = 0; d < sizeof dots / sizeof dots[0]; d++) {
        vec_dot_fn fn;
        *(void **)(&fn) = dlsym(cpu, dots[d].fn);
        if (!fn) die(dots[d].fn);
        ggml_get_type_traits(dots[d].dot_type)->from_float_ref(input2, act, N);
        size_t wb = ggml_row_size(dots[d].type, 32), ab = ggml_row_size(dots[d].dot_type, 32);
        float out[2 * BLOCKS + RANDOM_BLOCKS];
        for (int k = 0; k < BLOCKS; k++)
            fn(32, &out[k], 0, quant[dots[d].type] + k * wb, 0, act + k * ab, 0, 1);
        for (int k = 1; k <= BLOCKS; k++)
            fn(32 * k, &out[BLOCKS + k - 1], 0, quant[dots[d].type], 0, act, 0, 1);
        for (int k = 1; k <= RANDOM_BLOCKS; k++)
            fn(32 * k, &out[2 * BLOCKS + k - 1], 0, random[dots[d].type], 0, random[dots[d].dot_type], 0, 1);
        snprintf(name, sizeof name, "%s.dot.f32", ggml_type_name(dots[d].type));
        write_file(name, out, sizeof out);
    }

    k_types(cpu, input + 12 * 32);

    dlclose(cpu);
    return 0;
}
