/* record: what every tool does to a record the same way.
 *  - One reward of a scored record's "rewards" object, rewards.NAME =
 *    {"value", "raw"?, "spans"?: [{"end", "value"}]} (alarm-formats(5)
 *    section 3): the one reader (record_reward_read), the one writer of its
 *    JSON text (record_reward_put) and of its store row (record_reward_row).
 *  - The one raw-line splice (record_splice.c): a record's text with fields
 *    set, replaced or removed, every other byte kept as it was written.
 *  - Token ids (record_token_ids) and record ids seen once (record_ids.c).
 * Ownership: a record_reward owns its spans and reuses them across reads. */
#ifndef ALARM_RECORD_H
#define ALARM_RECORD_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "err.h"
#include "jsonl.h"

typedef struct {
    size_t end;   /* the byte after the span's last byte, in [1, response length] */
    double value;
} record_span;

typedef struct {
    double value;
    double raw;
    int has_raw;
    int has_spans;       /* a "spans" array was given (possibly empty) */
    record_span *spans;  /* (nspans,) */
    size_t nspans, cap;
} record_reward;

/* Reads rewards.NAME from `it` (a member of a record's "rewards" object,
 * it->string its NAME) of a record of reader r whose response has resp_len
 * bytes: value a finite number, raw a number when given, each span an
 * object with a finite value and an integer end in [1, resp_len]. Errors
 * are r's FILE:LINE and the field, e.g. field "rewards.f.spans[0].end". */
int record_reward_read(record_reward *o, const cJSON *it, size_t resp_len,
                       const jsonl_reader *r, alarm_err *e);
void record_reward_free(record_reward *o);

/* Writes v as a JSON number (shortest of %.15g / %.17g that reads back
 * exactly, as cJSON prints; "0" for zeros) into buf (>= 32 bytes); returns
 * its length. */
int record_fmt_num(char *buf, double v);

/* {"value":V,"raw":R,"spans":[{"end":E,"value":V},...]} (raw and spans when
 * given) to f; record_spans_put writes the spans array alone. 0 or -1. */
int record_reward_put(FILE *f, const record_reward *o);
int record_spans_put(FILE *f, const record_reward *o);

/* The rewards object text old[0, n) (NULL: none yet) with rewards set:
 * names[k] to rw[k], after every other reward (an old one of that name
 * removed), or removed when rw[k] is NULL; the other rewards byte for byte. */
int record_rewards_set(FILE *out, const char *old, size_t n, const char *const *names,
                       const record_reward *const *rw, size_t k, alarm_err *e);

/* The record text line[0, len) with its "rewards" (replaced where it
 * stands, or added) set as record_rewards_set does, and a newline. */
int record_write_rewards(FILE *out, const char *line, size_t len, const char *const *keys,
                         const record_reward *const *set, size_t n, alarm_err *e);

/* One row of the store's rewards table (alarm-formats(5) section 8) for
 * reward NAME of record id (prompt pid), through *st (prepared on first use;
 * the caller finalizes it). */
int record_reward_row(db_store *db, sqlite3_stmt **st, int64_t run_id, const char *id,
                      const char *pid, const char *name, const record_reward *o,
                      alarm_err *e);

/* A field to set in a record's text: its value as JSON text json[0, len),
 * or json NULL to remove the field. With at_end, the field goes after every
 * field of the record (an old one removed); otherwise an old one is
 * replaced where it stands and a new one appended. */
typedef struct {
    const char *key;
    const char *json;
    size_t len;
    int at_end;
} record_field;

/* Writes the JSON object text obj[0, n) (one record, validated by the
 * caller's parse; blanks after its closing brace are dropped) to out with
 * fields f[0, nf) set. Every field not named in f is written byte for byte
 * as it was, and so are the bytes between kept fields. No newline. A key
 * written with escapes ("\u0072eward") counts as the key it spells. */
int record_splice(FILE *out, const char *obj, size_t n, const record_field *f, size_t nf,
                  alarm_err *e);

/* The value of top-level field `key` of object text obj[0, n): *v and *vn
 * (1), or 0 when absent, -1 when the text is not an object. */
int record_find(const char *obj, size_t n, const char *key, const char **v, size_t *vn);

/* Reads the array field `key` of rec (optional unless required) as token
 * ids into ids[0, *n) (grown as needed; *n = 0 when absent): each an
 * integer in [0, vocab) (vocab 0: below 2^31, when the vocabulary is not
 * known). Errors name FILE:LINE, the field and the element:
 * field "prompt_tokens"[2]: the number is not a token id of the model's vocabulary (0 to 99): -1.5 */
int record_token_ids(const jsonl_reader *r, const cJSON *rec, const char *key, int required,
                     long vocab, int32_t **ids, size_t *cap, size_t *n, alarm_err *e);

/* Record ids met so far, each with the place it was first met, so every
 * tool refuses a repeated id the same way. File names are borrowed: they
 * must outlive the set. */
typedef struct {
    struct record_id_slot *slots;
    size_t n, cap;
} record_ids;

/* Adds id[0, len) met at file:line. A repeat fails with
 * FILE:LINE: duplicate NOUN "ID" (first at FILE:LINE)   (noun "id" or "prompt"). */
int record_ids_add(record_ids *s, const char *noun, const char *id, size_t len,
                   const char *file, long line, alarm_err *e);
void record_ids_free(record_ids *s);

#endif
