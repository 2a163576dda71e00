/* alarm-model train-tokenizer: learns a byte-level BPE vocabulary from JSONL
 * texts and writes a tokenizer.json (atomically: temporary file, then
 * rename) that this toolkit and Hugging Face's loaders read. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bpe.h"
#include "clock.h"
#include "drive.h"
#include "fsio.h"
#include "grow.h"
#include "jsonl.h"
#include "model_cmds.h"
#include "opt.h"
#include "out.h"
#include "utf8.h"

typedef struct {
    long vocab_size, min_frequency;
    const char *out;
    opt_list special, fields;
} args;

#define AT(f) offsetof(args, f)
static const opt_def opts[] = {
    {"vocab-size", 0, "N", "tokens in all: 256 bytes, special tokens, merges",
     .type = OPT_LONG, .off = AT(vocab_size), .min = 257, .max = 1 << 24},
    {"out", 0, "FILE|DIR", "the tokenizer.json to write; in a directory, also\n"
     "tokenizer_config.json naming the EOS token", .type = OPT_STR, .off = AT(out)},
    {"special", 0, "TOKEN", "a special token", "<|endoftext|>", .type = OPT_LIST,
     .off = AT(special)},
    {"min-frequency", 0, "N", "merge only pairs seen at least N times", "2", .type = OPT_LONG,
     .off = AT(min_frequency), .min = 1, .max = 1L << 40},
    {"field", 0, "NAME", "take texts from this field", .type = OPT_LIST, .off = AT(fields)},
    {0},
};

static const tool_spec spec = {
    .name = "alarm-model",
    .cmd = "train-tokenizer",
    .id = TOOL_MODEL_TRAIN_TOKENIZER,
    .usage = "alarm-model train-tokenizer --vocab-size N --out FILE|DIR [--special TOKEN]... "
             "[--min-frequency N] [--field NAME]... [FILE...]",
    .about = "Trains a byte-level BPE tokenizer on the texts of JSONL records (FILEs or stdin)\n"
             "and writes tokenizer.json. Texts are the \"text\" field, else the \"prompt\" and\n"
             "\"response\" fields, or the fields named by --field.\n",
    .opts = opts,
    .page = "alarm-model(1)",
};

typedef struct {
    const args *a;
    char **texts;
    size_t *lens;
    size_t n, cap_texts, cap_lens, bytes;
} corpus;

static int corpus_add(corpus *c, const char *s)
{
    if (grow_array(&c->texts, &c->cap_texts, c->n + 1, sizeof *c->texts, 1024, NULL) < 0 ||
        grow_array(&c->lens, &c->cap_lens, c->n + 1, sizeof *c->lens, 1024, NULL) < 0)
        return -1;
    if (!(c->texts[c->n] = strdup(s)))
        return -1;
    c->lens[c->n] = strlen(s);
    c->bytes += c->lens[c->n++];
    return 0;
}

/* One text of a record, checked to be UTF-8 (the error names the record). */
static int add_text(corpus *c, const jsonl_reader *r, const char *key, const char *s,
                    alarm_err *e)
{
    size_t bad;
    if (!utf8_valid(s, strlen(s), &bad))
        return jsonl_fail(r, e, "field \"%s\": invalid UTF-8 at byte %zu", key, bad);
    return corpus_add(c, s) < 0 ? err_set(e, "out of memory") : 0;
}

/* The texts of one record: the named fields, else text, else prompt+response. */
static int record_texts(void *user, jsonl_reader *r, cJSON **rec, alarm_err *e)
{
    static const char *const dflt[] = {"text", "prompt", "response"};
    corpus *c = user;
    const opt_list *f = &c->a->fields;
    const char *s;
    int found = 0;
    for (size_t i = 0; i < (f->n ? f->n : 3); i++) {
        const char *key = f->n ? f->v[i] : dflt[i];
        if (jsonl_opt_string(r, *rec, NULL, key, &s, e) < 0 || (s && add_text(c, r, key, s, e) < 0))
            return -1;
        found += s != NULL;
        if (!f->n && i == 0 && s)
            break; /* "text" wins over prompt/response */
    }
    if (!found)
        return jsonl_fail(r, e, "no %s field",
                          f->n ? "of the --field" : "\"text\", \"prompt\" or \"response\"");
    return 0;
}

static int write_outputs(const args *o, const bpe *t, alarm_err *e)
{
    char *json;
    if (bpe_to_json(&json, t, e) < 0)
        return -1;
    struct stat st;
    int is_dir = stat(o->out, &st) == 0 && S_ISDIR(st.st_mode);
    size_t n = strlen(o->out) + 32;
    char *path = malloc(n);
    int rc = path ? 0 : err_set(e, "out of memory");
    if (rc == 0) {
        snprintf(path, n, is_dir ? "%s/tokenizer.json" : "%s", o->out);
        rc = fsio_write_atomic(path, json, e);
    }
    if (rc == 0 && is_dir) {
        cJSON *cfg = cJSON_CreateObject();
        size_t len;
        const char *eos = bpe_eos_id(t) >= 0 ? bpe_id_to_bytes(t, bpe_eos_id(t), &len) : NULL;
        if (eos) {
            cJSON_AddStringToObject(cfg, "bos_token", eos);
            cJSON_AddStringToObject(cfg, "eos_token", eos);
        }
        cJSON_AddStringToObject(cfg, "tokenizer_class", "PreTrainedTokenizerFast");
        char *s = cJSON_Print(cfg);
        snprintf(path, n, "%s/tokenizer_config.json", o->out);
        rc = s ? fsio_write_atomic(path, s, e) : err_set(e, "out of memory");
        free(s);
        cJSON_Delete(cfg);
    }
    free(path);
    free(json);
    return rc;
}

static void corpus_free(corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->texts[i]);
    free(c->texts);
    free(c->lens);
}

/* Reads the texts, trains, writes; returns the exit status. */
static int train(const tool *t, const args *a)
{
    corpus c = {.a = a};
    drive d = {.t = t, .fn = record_texts, .user = &c};
    bpe *tok = NULL;
    alarm_err e;
    int status = TOOL_FAIL;
    double t0 = clock_mono();
    bpe_train_opts to = {.vocab_size = (size_t)a->vocab_size, .special = a->special.v,
                         .n_special = a->special.n, .min_frequency = (size_t)a->min_frequency};
    if (drive_files(&d, &e) < 0)
        goto fail;
    if (c.n == 0) {
        err_set(&e, "%s: no texts to train on (%llu records)",
                t->nargs == 1 ? t->args[0] : t->nargs ? "the input files" : "<stdin>", d.records);
        goto fail;
    }
    if (bpe_train(&tok, (const char *const *)c.texts, c.lens, c.n, &to, &e) < 0 ||
        write_outputs(a, tok, &e) < 0)
        goto fail;
    if (!t->quiet)
        fprintf(stderr, "alarm-model: %zu tokens from %zu texts (%zu bytes) in %.2fs -> %s\n",
                bpe_vocab_size(tok), c.n, c.bytes,
                clock_mono() - t0, a->out);
    status = TOOL_OK;
    goto done;
fail:
    status = tool_fail(t, e.msg);
done:
    corpus_free(&c);
    bpe_free(tok);
    return status;
}

int model_cmd_train_tokenizer(int argc, char **argv)
{
    args a = {.min_frequency = 2};
    tool t;
    int status = opt_parse(&t, &spec, &a, argc, argv);
    if (status < 0 && (!a.vocab_size || !a.out))
        status = tool_usage(&t, "--vocab-size and --out are required");
    if (status < 0 && !a.special.n && opt_list_add(&a.special, "<|endoftext|>") < 0)
        status = tool_fail(&t, "out of memory");
    if (status < 0)
        status = train(&t, &a);
    opt_list_free(&a.special);
    opt_list_free(&a.fields);
    return tool_finish(&t, status);
}
