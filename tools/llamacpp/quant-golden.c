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

    dlclose(cpu);
    return 0;
}
