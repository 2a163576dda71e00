/* bpe_impl: the inside of a bpe, shared by the bpe_*.c files and nothing else.
 * Tokens are kept as raw bytes (the byte-level alphabet undone), so encoding
 * works on the input's bytes and offsets fall out of the byte positions. */
#ifndef ALARM_BPE_IMPL_H
#define ALARM_BPE_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "bpe.h"

/* Open-addressing map from a byte string (kept elsewhere) to an id. */
typedef struct {
    uint64_t *slots; /* hash >> 32 << 32 | (id + 1), 0 = empty */
    size_t cap;      /* power of two */
    size_t n;
} bpe_strmap;

/* Open-addressing map from a pair of ids to (rank, merged id). */
typedef struct {
    uint64_t *keys; /* (a << 32 | b) + 1, 0 = empty */
    int32_t *rank, *merged;
    size_t cap, n;
} bpe_pairmap;

typedef struct {
    char *content;
    size_t len;
    int32_t id;
    uint8_t special, lstrip, rstrip, single_word;
} bpe_added;

enum { BPE_SPLIT_ISOLATED, BPE_SPLIT_REMOVED, BPE_SPLIT_MERGED_PREV,
       BPE_SPLIT_MERGED_NEXT, BPE_SPLIT_CONTIGUOUS };

typedef struct {
    pcre2_code *re;   /* NULL for a literal string pattern */
    char *literal;    /* the regex source, or the literal string */
    size_t literal_len;
    int byte_level;   /* the regex step of a ByteLevel pre-tokenizer */
    int behavior;
    int invert;
} bpe_split;

/* Ids stop below this (16M); a larger id in a file is refused, not allocated. */
#define BPE_MAX_IDS (1 << 24)

enum { BPE_TOK_MODEL = 1, BPE_TOK_ADDED = 2, BPE_TOK_SPECIAL = 4 };

struct bpe {
    uint64_t serial;     /* unique per tokenizer: tells caches apart */
    size_t n_ids;        /* largest id + 1 */
    size_t ids_cap;      /* room in tok_off/tok_len/tok_flags */
    char *bytes;         /* every token's raw bytes, back to back */
    size_t bytes_len, bytes_cap;
    size_t *tok_off;     /* (n_ids,) into bytes */
    uint32_t *tok_len;   /* (n_ids,) */
    uint8_t *tok_flags;  /* (n_ids,) BPE_TOK_*, 0 = no such id */
    bpe_strmap vocab;    /* raw bytes of model tokens -> id */
    bpe_pairmap merges;
    int32_t byte_id[256];
    bpe_added *added;    /* sorted by id */
    size_t n_added;
    uint8_t added_first[256]; /* 1 when some added token starts with that byte */
    bpe_split *splits;   /* pre-tokenizer steps, in order */
    size_t n_splits;
    int add_prefix_space;
    int byte_level_at;   /* the ByteLevel step's place among splits (for writing) */
    int nfc;             /* NFC normalizer */
    int ignore_merges;
    int32_t unk_id;
    int32_t *prefix, *suffix; /* post-processor template around the text */
    size_t n_prefix, n_suffix;
    int32_t bos, eos, pad;
};

/* The GPT-2 pre-tokenizer regex (ByteLevel with use_regex). */
extern const char bpe_gpt2_pattern[];

/* Byte-level alphabet: byte -> code point, and back (-1 when not in it). */
uint32_t bpe_byte_to_cp(uint8_t b);
int bpe_cp_to_byte(uint32_t cp);
/* Appends the byte-level form (UTF-8) of raw bytes; returns the new length
 * or -1 when dst is too small. dst needs at most 2 * n bytes. */
size_t bpe_bytes_to_name(char *dst, const char *src, size_t n);
/* Undoes the byte-level form into raw bytes (dst of at least n bytes).
 * Returns the raw length, or -1 if the name holds a character outside the
 * alphabet. */
long bpe_name_to_bytes(char *dst, const char *name, size_t n);

uint64_t bpe_hash(const char *s, size_t n);
int bpe_strmap_init(bpe_strmap *m, size_t expect);
void bpe_strmap_free(bpe_strmap *m);
/* Looks up bytes s in m (tokens' bytes live in t). -1 when absent. */
int32_t bpe_strmap_get(const bpe *t, const bpe_strmap *m, const char *s, size_t n);
/* Inserts id (whose bytes are already in t); returns the id already mapped
 * to the same bytes, or -1 when inserted. */
int32_t bpe_strmap_put(const bpe *t, bpe_strmap *m, int32_t id);

int bpe_pairmap_init(bpe_pairmap *m, size_t expect);
void bpe_pairmap_free(bpe_pairmap *m);
/* 0 when found (rank/merged filled), -1 when absent. */
int bpe_pairmap_get(const bpe_pairmap *m, int32_t a, int32_t b, int32_t *rank, int32_t *merged);
/* 0 when inserted, 1 when the pair was already there (left unchanged). */
int bpe_pairmap_put(bpe_pairmap *m, int32_t a, int32_t b, int32_t rank, int32_t merged);

/* Allocates an empty tokenizer (GPT-2 pre-tokenizer not yet set). */
bpe *bpe_new(void);
/* Makes room for ids below n_ids. */
int bpe_reserve_ids(bpe *t, size_t n_ids, alarm_err *e);
/* Records the raw bytes of token id (which must be free). */
int bpe_set_token(bpe *t, int32_t id, const char *raw, size_t n, int flags, alarm_err *e);
/* Compiles a split step from a regex (UTF + UCP) and appends it. */
int bpe_add_split_regex(bpe *t, const char *pattern, size_t len, int behavior, int invert,
                        alarm_err *e);
/* Fills byte_id[] from the vocabulary and sorts added tokens. */
void bpe_finish(bpe *t);

/* The code point at s[*i] of valid UTF-8; advances *i past it. */
uint32_t bpe_utf8_next(const char *s, size_t *i);

/* Normalizes text[0, n) to NFC. *norm (malloc'd, *norm_len bytes) and
 * *map ((norm_len + 1,) original byte position of each normalized byte,
 * end included) are set only when the text changes; otherwise both NULL. */
int bpe_nfc(char **norm, size_t *norm_len, size_t **map, const char *text, size_t n,
            alarm_err *e);

#endif
