/* alarm-model train-tokenizer: learns a byte-level BPE vocabulary from JSONL
 * texts and writes a tokenizer.json (atomically: temporary file, then
 * rename) that this toolkit and Hugging Face's loaders read. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bpe.h"
#include "cli.h"
#include "clock.h"
#include "model_cmds.h"
#include "jsonl.h"

static const char usage[] =
    "alarm-model train-tokenizer --vocab-size N --out FILE|DIR [--special TOKEN]... "
    "[--min-frequency N] [--field NAME]... [FILE...]";

static const char help[] =
    "Trains a byte-level BPE tokenizer on the texts of JSONL records (FILEs or stdin)\n"
    "and writes tokenizer.json. Texts are the \"text\" field, else the \"prompt\" and\n"
    "\"response\" fields, or the fields named by --field.\n\n"
    "  --vocab-size N       tokens in all: 256 bytes, special tokens, merges\n"
    "  --out FILE|DIR       the tokenizer.json to write; in a directory, also\n"
    "                       tokenizer_config.json naming the EOS token\n"
    "  --special TOKEN      a special token (repeatable; default <|endoftext|>)\n"
    "  --min-frequency N    merge only pairs seen at least N times (default 2)\n"
    "  --field NAME         take texts from this field (repeatable)\n"
    "  -q, --quiet          no summary on stderr\n"
    "  -h, --help           this help\n";

#define MAX_LIST 64

typedef struct {
    cli_common cli;
    long vocab_size, min_frequency;
    const char *out;
    const char *special[MAX_LIST], *fields[MAX_LIST];
    size_t n_special, n_fields;
} opts;

typedef struct {
    char **texts;
    size_t *lens;
    size_t n, cap, bytes;
} corpus;

static int corpus_add(corpus *c, const char *s)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 1024;
        char **t = realloc(c->texts, cap * sizeof *t);
        if (t)
            c->texts = t;
        size_t *l = realloc(c->lens, cap * sizeof *l);
        if (l)
            c->lens = l;
        if (!t || !l)
            return -1;
        c->cap = cap;
    }
    if (!(c->texts[c->n] = strdup(s)))
        return -1;
    c->lens[c->n] = strlen(s);
    c->bytes += c->lens[c->n++];
    return 0;
}

/* The texts of one record: the named fields, else text, else prompt+response. */
static int record_texts(const opts *o, const jsonl_reader *r, const cJSON *rec, corpus *c,
                        alarm_err *e)
{
    static const char *const dflt[] = {"text", "prompt", "response"};
    const char *s;
    int found = 0;
    for (size_t i = 0; i < (o->n_fields ? o->n_fields : 3); i++) {
        const char *key = o->n_fields ? o->fields[i] : dflt[i];
        if (jsonl_opt_string(r, rec, NULL, key, &s, e) < 0)
            return -1;
        int rc = s != NULL;
        if (rc && corpus_add(c, s) < 0)
            return err_set(e, "out of memory");
        found += rc;
        if (!o->n_fields && i == 0 && rc)
            break; /* "text" wins over prompt/response */
    }
    if (!found)
        return err_set(e, "%s:%ld: no %s field", r->name, r->lineno,
                       o->n_fields ? "of the --field" : "\"text\", \"prompt\" or \"response\"");
    return 0;
}

static int read_corpus(const opts *o, const char *path, corpus *c, alarm_err *e)
{
    jsonl_reader r;
    if (jsonl_open(&r, path, e) < 0)
        return -1;
    cJSON *rec;
    int rc;
    while ((rc = jsonl_next(&r, &rec, e)) > 0) {
        rc = record_texts(o, &r, rec, c, e);
        cJSON_Delete(rec);
        if (rc < 0)
            break;
    }
    jsonl_close(&r);
    return rc;
}

/* Writes text to path through a temporary file in the same directory. */
static int write_atomic(const char *path, const char *text, alarm_err *e)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return err_set(e, "out of memory");
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        err_set(e, "%s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    int ok = f && fputs(text, f) >= 0 && fflush(f) == 0 && fsync(fd) == 0;
    int saved = errno;
    if (f ? fclose(f) != 0 : close(fd) != 0)
        ok = 0;
    if (ok && chmod(tmp, 0644) == 0 && rename(tmp, path) == 0) {
        free(tmp);
        return 0;
    }
    err_set(e, "%s: %s", path, strerror(saved ? saved : errno));
    unlink(tmp);
    free(tmp);
    return -1;
}

static int write_outputs(const opts *o, const bpe *t, alarm_err *e)
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
        rc = write_atomic(path, json, e);
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
        rc = s ? write_atomic(path, s, e) : err_set(e, "out of memory");
        free(s);
        cJSON_Delete(cfg);
    }
    free(path);
    free(json);
    return rc;
}

static int parse_options(opts *o, int argc, char **argv)
{
    enum { OPT_VOCAB = CLI_OPT_FIRST_TOOL_OPT, OPT_OUT, OPT_SPECIAL, OPT_MINFREQ, OPT_FIELD };
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"vocab-size", required_argument, 0, OPT_VOCAB},
        {"out", required_argument, 0, OPT_OUT},
        {"special", required_argument, 0, OPT_SPECIAL},
        {"min-frequency", required_argument, 0, OPT_MINFREQ},
        {"field", required_argument, 0, OPT_FIELD},
        {0, 0, 0, 0},
    };
    alarm_err e;
    int c;
    optind = 1;
    while ((c = cli_next_option(&o->cli, argc, argv, longopts)) != -1) {
        switch (c) {
        case CLI_BAD_SHARED: return CLI_USAGE;
        case OPT_VOCAB:
            if (cli_parse_long("--vocab-size", optarg, 257, 1 << 24, &o->vocab_size, &e) < 0)
                return cli_usage_error(&o->cli, "%s", e.msg);
            break;
        case OPT_MINFREQ:
            if (cli_parse_long("--min-frequency", optarg, 1, 1L << 40, &o->min_frequency, &e) < 0)
                return cli_usage_error(&o->cli, "%s", e.msg);
            break;
        case OPT_OUT: o->out = optarg; break;
        case OPT_SPECIAL:
        case OPT_FIELD:
            if ((c == OPT_SPECIAL ? o->n_special : o->n_fields) == MAX_LIST)
                return cli_usage_error(&o->cli, "at most %d of each list option", MAX_LIST);
            if (c == OPT_SPECIAL)
                o->special[o->n_special++] = optarg;
            else
                o->fields[o->n_fields++] = optarg;
            break;
        default: return cli_usage_error(&o->cli, "unknown option");
        }
    }
    if (o->cli.help || o->cli.version)
        return CLI_OK;
    if (!o->vocab_size || !o->out)
        return cli_usage_error(&o->cli, "--vocab-size and --out are required");
    return CLI_OK;
}

int model_cmd_train_tokenizer(int argc, char **argv)
{
    opts o = {.min_frequency = 2};
    cli_init(&o.cli, "alarm-model", usage);
    int status = parse_options(&o, argc, argv);
    if (status != CLI_OK)
        return status;
    if ((status = cli_help_or_version(&o.cli, help)) >= 0)
        return status;
    if (!o.n_special)
        o.special[o.n_special++] = "<|endoftext|>";
    corpus c = {0};
    bpe *t = NULL;
    alarm_err e;
    status = CLI_FAIL;
    double t0 = clock_mono();
    for (int i = optind; i < argc || i == optind; i++) {
        if (read_corpus(&o, i < argc ? argv[i] : "-", &c, &e) < 0)
            goto fail;
        if (i >= argc)
            break;
    }
    bpe_train_opts to = {.vocab_size = (size_t)o.vocab_size, .special = o.special,
                         .n_special = o.n_special, .min_frequency = (size_t)o.min_frequency};
    if (bpe_train(&t, (const char *const *)c.texts, c.lens, c.n, &to, &e) < 0 ||
        write_outputs(&o, t, &e) < 0)
        goto fail;
    if (!o.cli.quiet)
        fprintf(stderr, "alarm-model: %zu tokens from %zu texts (%zu bytes) in %.2fs -> %s\n",
                bpe_vocab_size(t), c.n, c.bytes,
                clock_mono() - t0, o.out);
    status = CLI_OK;
    goto done;
fail:
    cli_error(&o.cli, "%s", e.msg);
done:
    for (size_t i = 0; i < c.n; i++)
        free(c.texts[i]);
    free(c.texts);
    free(c.lens);
    bpe_free(t);
    return cli_finish_stdout(&o.cli, status);
}
