/* alarm-model tokenize: JSONL records with a text field in, the same records
 * with "ids" and "offsets" (byte spans into the text) added. Records that do
 * not have those fields yet are copied byte for byte, fields appended. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe.h"
#include "cli.h"
#include "model_cmds.h"
#include "jsonl.h"

static const char usage[] =
    "alarm-model tokenize --tokenizer FILE|DIR [--add-special] [--field NAME] [FILE...]";

static const char help[] =
    "Adds \"ids\" and \"offsets\" to each JSONL record, tokenizing its \"text\" field\n"
    "(or --field NAME) with a Hugging Face tokenizer.json. Reads FILEs or stdin.\n\n"
    "  --tokenizer FILE|DIR  tokenizer.json, or a checkpoint directory holding one\n"
    "  --add-special         apply the tokenizer's post-processor (e.g. a BOS token)\n"
    "  --field NAME          the field to tokenize (default \"text\")\n"
    "  -q, --quiet           no progress on stderr\n"
    "  -h, --help            this help\n";

typedef struct {
    cli_common cli;
    const char *tokenizer;
    const char *field;
    int flags;
} opts;

/* Decimal digits of v at p; returns the end. (printf dominated the run.) */
static char *put_u(char *p, size_t v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static void put_ids(FILE *out, const bpe_out *o)
{
    char buf[4096], *p = buf;
    fputs("\"ids\":[", out);
    for (size_t i = 0; i < o->n; i++) {
        if (p - buf > (long)sizeof buf - 64)
            fwrite(buf, 1, (size_t)(p - buf), out), p = buf;
        if (i)
            *p++ = ',';
        p = put_u(p, (size_t)o->ids[i]);
    }
    memcpy(p, "],\"offsets\":[", 13);
    p += 13;
    for (size_t i = 0; i < o->n; i++) {
        if (p - buf > (long)sizeof buf - 64)
            fwrite(buf, 1, (size_t)(p - buf), out), p = buf;
        if (i)
            *p++ = ',';
        *p++ = '[';
        p = put_u(p, o->offsets[2 * i]);
        *p++ = ',';
        p = put_u(p, o->offsets[2 * i + 1]);
        *p++ = ']';
    }
    *p++ = ']';
    fwrite(buf, 1, (size_t)(p - buf), out);
}

/* Writes the record with ids/offsets: the raw line with the fields appended
 * when it has neither, else the record re-printed with them replaced. */
static int write_record(FILE *out, const jsonl_reader *r, cJSON *rec, const bpe_out *o)
{
    alarm_err e;
    if (!cJSON_GetObjectItemCaseSensitive(rec, "ids") &&
        !cJSON_GetObjectItemCaseSensitive(rec, "offsets")) {
        if (jsonl_splice_begin(out, r, rec, &e) < 0)
            return -1;
        put_ids(out, o);
        return jsonl_splice_end(out, &e);
    }
    cJSON *ids = cJSON_CreateArray(), *offs = cJSON_CreateArray();
    for (size_t i = 0; i < o->n; i++) {
        cJSON_AddItemToArray(ids, cJSON_CreateNumber(o->ids[i]));
        cJSON *p = cJSON_CreateArray();
        cJSON_AddItemToArray(p, cJSON_CreateNumber((double)o->offsets[2 * i]));
        cJSON_AddItemToArray(p, cJSON_CreateNumber((double)o->offsets[2 * i + 1]));
        cJSON_AddItemToArray(offs, p);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "ids");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "offsets");
    cJSON_AddItemToObject(rec, "ids", ids);
    cJSON_AddItemToObject(rec, "offsets", offs);
    char *s = cJSON_PrintUnformatted(rec);
    if (!s)
        return -1;
    fputs(s, out);
    fputc('\n', out);
    free(s);
    return 0;
}

static int tokenize_file(const opts *o, const bpe *t, const char *path, bpe_out *out,
                         alarm_err *e)
{
    jsonl_reader r;
    if (jsonl_open(&r, path, e) < 0)
        return -1;
    cJSON *rec = NULL;
    int rc;
    while ((rc = jsonl_next(&r, &rec, e)) > 0) {
        const char *text;
        if (jsonl_req_string(&r, rec, NULL, o->field, &text, e) < 0) {
            rc = -1;
            break;
        }
        if (bpe_encode(out, t, text, strlen(text), o->flags, e) < 0) {
            rc = err_prefix(e, "%s:%ld: field \"%s\"", r.name, r.lineno, o->field);
            break;
        }
        if (write_record(stdout, &r, rec, out) < 0) {
            rc = err_set(e, "cannot write standard output");
            break;
        }
        cJSON_Delete(rec);
        rec = NULL;
    }
    cJSON_Delete(rec);
    jsonl_close(&r);
    return rc;
}

static int parse_options(opts *o, int argc, char **argv)
{
    enum { OPT_TOKENIZER = CLI_OPT_FIRST_TOOL_OPT, OPT_ADD_SPECIAL, OPT_FIELD };
    static const struct option longopts[] = {
        CLI_COMMON_LONGOPTS,
        {"tokenizer", required_argument, 0, OPT_TOKENIZER},
        {"add-special", no_argument, 0, OPT_ADD_SPECIAL},
        {"field", required_argument, 0, OPT_FIELD},
        {0, 0, 0, 0},
    };
    int c;
    optind = 1;
    while ((c = cli_next_option(&o->cli, argc, argv, longopts)) != -1) {
        switch (c) {
        case CLI_BAD_SHARED: return CLI_USAGE;
        case OPT_TOKENIZER: o->tokenizer = optarg; break;
        case OPT_ADD_SPECIAL: o->flags |= BPE_ADD_SPECIAL; break;
        case OPT_FIELD: o->field = optarg; break;
        default: return cli_usage_error(&o->cli, "unknown option");
        }
    }
    if (o->cli.help || o->cli.version)
        return CLI_OK;
    if (!o->tokenizer)
        return cli_usage_error(&o->cli, "--tokenizer is required");
    return CLI_OK;
}

int model_cmd_tokenize(int argc, char **argv)
{
    opts o = {.field = "text"};
    cli_init(&o.cli, "alarm-model", usage);
    int status = parse_options(&o, argc, argv);
    if (status != CLI_OK)
        return status;
    if ((status = cli_help_or_version(&o.cli, help)) >= 0)
        return status;
    bpe *t = NULL;
    bpe_out out = {0};
    alarm_err e;
    status = CLI_FAIL;
    if (bpe_load(&t, o.tokenizer, &e) < 0)
        goto fail;
    for (int i = optind; i < argc || i == optind; i++) {
        const char *path = i < argc ? argv[i] : "-";
        if (tokenize_file(&o, t, path, &out, &e) < 0)
            goto fail;
        if (i >= argc)
            break;
    }
    status = CLI_OK;
    goto done;
fail:
    fflush(stdout);
    cli_error(&o.cli, "%s", e.msg);
done:
    bpe_out_free(&out);
    bpe_free(t);
    return cli_finish_stdout(&o.cli, status);
}
