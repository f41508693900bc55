# Generates llama-spm-extra.inp: inputs for llama-spm-extra.jsonl (see llama-spm-extra.c), separated
# like llama.cpp's test-tokenizer-0 inputs by "\n__ggml_vocab_test__\n". Deterministic (seed 1234).
import random
rng = random.Random(1234)
SEP = b"\n__ggml_vocab_test__\n"
pools = [
    (40, [chr(c) for c in range(0x20, 0x7F)]),
    (15, [" ", "\t", "\n", "\r", "\v", "\f", "\u00a0", "\u3000", "  ", "\n\n"]),
    (10, [chr(c) for c in range(0xA0, 0x250)]),
    (10, [chr(c) for c in range(0x370, 0x530)]),
    (10, [chr(c) for c in range(0x4E00, 0x9FA6)]),
    (8, [chr(c) for c in range(0x1F300, 0x1FAFF)] + [chr(c) for c in range(0x10000, 0x10100)] + [chr(c) for c in range(0x20000, 0x20100)]),
    (5, [chr(c) for c in range(0x300, 0x370)] + [chr(c) for c in range(0x900, 0x980)] + [chr(c) for c in range(0x1780, 0x1800)] + ["\u200d", "\ufe0f", "\ufeff"]),
    (2, ["\u2581", "<s>", "</s>", "<unk>", "<0x41>", "<s", "s>", "<", ">"]),
]
weights = [w for w, _ in pools]
def rand_string():
    n = rng.choice([0, 1, 2, 3, 5, 8, 13, 21, 34, 55])
    return "".join(rng.choice(rng.choices(pools, weights)[0][1]) for _ in range(n))
cases = []
# Hand-written: special tokens, spaces, byte fallback.
cases += [s.encode() for s in [
    "<s>", "</s>", "<unk>", "<s>Hello</s>", "Hello<s>world", "<s> Hello", " <s>", "<s><s>", "</s>Hello</s>",
    "a</s>b<unk>c", "<<s>>", "<s", "<s>\n", "\n<s>", "<s>  x", "x<s>", "<0x41>", "<0x0A>", "\u2581", "\u2581\u2581x",
    "Hello\u2581world", " ", "  ", "\t\t", "\r\n", "a\u0000b", "\u0000", "\ufeffBOM", "\U0001F600", "\U0001F468\u200d\U0001F469\u200d\U0001F467",
    "\u00e9\u0065\u0301", "\uffff", "\U0010FFFF", "\U000E0001", "x" * 300, "ab" * 150, "\u4e00" * 50,
    "The quick brown fox jumps over the lazy dog.", "   leading and trailing   ",
]]
# Invalid UTF-8 (llama_tokenize takes bytes).
cases += [b"\x80", b"\xff", b"\xc3", b"\xc3(", b"\xe2\x82", b"\xe2\x82(", b"\xf0\x9f\x98", b"a\xf0\x9f\x98b",
          b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\xe2A B", b" \x80 \x81 ", b"\xfe\xfe\xff\xff"]
cases += [bytes([b]) for b in range(256) if b != 0x0A]
cases += [rand_string().encode("utf-8", "surrogatepass") for _ in range(300)]
assert all(SEP not in c for c in cases)
open("llama-spm-extra.inp", "wb").write(SEP.join(cases))
print(len(cases))
