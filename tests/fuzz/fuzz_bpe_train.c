/* libFuzzer target: the BPE trainer on arbitrary texts (the input split at
 * newlines; invalid UTF-8 must be refused cleanly), then the round trip
 * decode(encode(text)) == text with the trained tokenizer and with its
 * tokenizer.json reloaded; any difference aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpe.h"

static void round_trip(const bpe *t, const char *s, size_t n)
{
    bpe_out o = {0};
    alarm_err e;
    if (bpe_encode(&o, t, s, n, 0, &e) == 0) {
        char *back;
        size_t len;
        if (bpe_decode(&back, &len, t, o.ids, o.n, 0, &e) < 0 || len != n || memcmp(back, s, n))
            abort();
        free(back);
    }
    bpe_out_free(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    const char *texts[64];
    size_t lens[64], n = 0, at = 0;
    while (at <= size && n < 64) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - data) : size;
        texts[n] = (const char *)data + at;
        lens[n++] = end - at;
        at = end + 1;
    }
    const char *special[] = {"<|endoftext|>", "<s>"};
    bpe_train_opts o = {.vocab_size = 320, .special = special, .n_special = 2, .min_frequency = 1};
    bpe *t;
    alarm_err e;
    if (bpe_train(&t, texts, lens, n, &o, &e) < 0)
        return 0;
    char *json;
    bpe *u = NULL;
    if (bpe_to_json(&json, t, &e) == 0) {
        if (bpe_load_json(&u, json, strlen(json), &e) < 0)
            abort(); /* what we write, we read */
        free(json);
    }
    for (size_t i = 0; i < n; i++) {
        round_trip(t, texts[i], lens[i]);
        round_trip(u, texts[i], lens[i]);
    }
    bpe_free(u);
    bpe_free(t);
    return 0;
}
