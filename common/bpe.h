/* bpe: Hugging Face tokenizer.json byte-level BPE (GPT-2, Llama 3, Qwen2):
 * load, encode with byte offsets, decode, and train a new vocabulary.
 *
 * Ownership: a bpe is built by bpe_load* or bpe_train and released with
 * bpe_free; it is read-only afterwards, so several threads may encode with
 * one bpe at once (each with its own bpe_out). Buffers a function fills
 * (bpe_out, the bytes of bpe_decode) belong to the caller. */
#ifndef ALARM_BPE_H
#define ALARM_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct bpe bpe;

/* Loads a tokenizer. bpe_load takes a tokenizer.json file or a directory
 * holding one (the directory's tokenizer_config.json, when present, names
 * the BOS/EOS/PAD tokens). bpe_load_json parses tokenizer.json text of `len`
 * bytes (need not be NUL-terminated). Unsupported models (anything but a
 * byte-level BPE) and malformed files are errors, never crashes. */
int bpe_load(bpe **out, const char *path, alarm_err *e);
int bpe_load_json(bpe **out, const char *json, size_t len, alarm_err *e);
/* Applies a tokenizer_config.json text (bos_token, eos_token, pad_token). */
int bpe_apply_config_json(bpe *t, const char *json, size_t len, alarm_err *e);
void bpe_free(bpe *t);

/* Tokens of one encode. offsets holds n pairs (start, end): the half-open
 * byte span of the input that token i covers; a token holding part of a
 * multi-byte character spans the bytes it emits; special tokens added by the
 * post-processor have empty spans at the start or end of the text. */
typedef struct {
    int32_t *ids;     /* (n,) */
    size_t *offsets;  /* (n, 2) */
    size_t n, cap;
    void *scratch;    /* work buffers and a word cache kept between calls */
} bpe_out;

enum {
    BPE_ADD_SPECIAL = 1, /* encode: apply the post-processor (BOS/EOS template) */
    BPE_SKIP_SPECIAL = 2 /* decode: leave special tokens out */
};

/* Encodes `len` bytes of UTF-8 text into out (emptied first; its buffers are
 * reused across calls). Start from `bpe_out out = {0}`; free with
 * bpe_out_free. Invalid UTF-8 is an error. */
int bpe_encode(bpe_out *out, const bpe *t, const char *text, size_t len, int flags,
               alarm_err *e);
void bpe_out_free(bpe_out *out);

/* Decodes ids into a malloc'd buffer *bytes of *len bytes (NUL-terminated
 * for convenience; it may hold partial UTF-8 when ids split a character). */
int bpe_decode(char **bytes, size_t *len, const bpe *t, const int32_t *ids, size_t n,
               int flags, alarm_err *e);

/* Lookups. A token is named as in tokenizer.json (byte-level form such as
 * "Ġthe", or an added token's content). Unknown names and ids give -1/NULL. */
int32_t bpe_token_to_id(const bpe *t, const char *token);
/* The bytes token `id` decodes to (not NUL-terminated), or NULL. */
const char *bpe_id_to_bytes(const bpe *t, int32_t id, size_t *len);
int bpe_is_special(const bpe *t, int32_t id);
size_t bpe_vocab_size(const bpe *t); /* largest id + 1 */
int32_t bpe_bos_id(const bpe *t);    /* -1 when the tokenizer has none */
/* The ids BPE_ADD_SPECIAL puts before / after the text (the post-processor
 * template, e.g. Llama 3's BOS); *ids points into t. Returns the count. */
size_t bpe_template_prefix(const bpe *t, const int32_t **ids);
size_t bpe_template_suffix(const bpe *t, const int32_t **ids);
int32_t bpe_eos_id(const bpe *t);
int32_t bpe_pad_id(const bpe *t);

/* Trains a byte-level BPE on `n` texts: the GPT-2 pre-tokenizer regex, the
 * 256 byte tokens, then merges by pair frequency until `vocab_size` tokens
 * (special tokens included; they take the first ids). Deterministic. */
typedef struct {
    size_t vocab_size;
    const char *const *special; /* special token contents, e.g. "<|endoftext|>" */
    size_t n_special;
    size_t min_frequency;       /* pairs seen fewer times are not merged (>= 1) */
} bpe_train_opts;
int bpe_train(bpe **out, const char *const *texts, const size_t *lens, size_t n,
              const bpe_train_opts *opts, alarm_err *e);

/* Writes tokenizer.json text for t (malloc'd, NUL-terminated) that this
 * loader and Hugging Face's read back to the same tokenizer. */
int bpe_to_json(char **json, const bpe *t, alarm_err *e);

#endif
