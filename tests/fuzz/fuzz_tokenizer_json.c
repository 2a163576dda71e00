/* libFuzzer target: tokenizer.json loading, then encode, decode and write
 * back. Input: JSON text, optionally followed by a NUL byte and a text to
 * encode (else a few fixed strings are encoded). Loading must fail cleanly or
 * give a tokenizer that encodes and decodes anything without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpe.h"

static void exercise(const bpe *t, const char *text, size_t len)
{
    bpe_out o = {0};
    alarm_err e;
    for (int flags = 0; flags <= BPE_ADD_SPECIAL; flags += BPE_ADD_SPECIAL) {
        if (bpe_encode(&o, t, text, len, flags, &e) < 0)
            continue;
        size_t prev = 0;
        for (size_t i = 0; i < o.n; i++) {
            /* Offsets stay inside the text and never go backwards. */
            if (o.offsets[2 * i] < prev || o.offsets[2 * i + 1] < o.offsets[2 * i] ||
                o.offsets[2 * i + 1] > len)
                abort();
            prev = o.offsets[2 * i];
        }
        char *bytes;
        size_t n;
        if (bpe_decode(&bytes, &n, t, o.ids, o.n, 0, &e) == 0)
            free(bytes);
    }
    bpe_out_free(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    const char *nul = memchr(data, 0, size);
    size_t jlen = nul ? (size_t)(nul - json) : size;
    bpe *t;
    alarm_err e;
    if (bpe_load_json(&t, json, jlen, &e) < 0)
        return 0;
    bpe_apply_config_json(t, json, jlen, &e);
    if (nul) {
        exercise(t, nul + 1, size - jlen - 1);
    } else {
        static const char *const texts[] = {"Hello world, it's 2024!", "  \n\n\t x", "é€😀中文",
                                            "<|endoftext|>a<s>b</s>", "e\xcc\x81"};
        for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
            exercise(t, texts[i], strlen(texts[i]));
    }
    char *out;
    if (bpe_to_json(&out, t, &e) == 0) {
        bpe *u;
        if (bpe_load_json(&u, out, strlen(out), &e) == 0)
            bpe_free(u);
        free(out);
    }
    bpe_free(t);
    return 0;
}
