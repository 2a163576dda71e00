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
#include "tok_records.h"

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

static void put_ids(FILE *out, const bpe_out *o)
{
    fputs("\"ids\":[", out);
    for (size_t i = 0; i < o->n; i++)
        fprintf(out, i ? ",%d" : "%d", (int)o->ids[i]);
    fputs("],\"offsets\":[", out);
    for (size_t i = 0; i < o->n; i++)
        fprintf(out, i ? ",[%zu,%zu]" : "[%zu,%zu]", o->offsets[2 * i], o->offsets[2 * i + 1]);
    fputc(']', out);
}

/* Writes the record with ids/offsets: the raw line with the fields appended
 * when it has neither, else the record re-printed with them replaced. */
static int write_record(FILE *out, const tok_reader *r, cJSON *rec, const bpe_out *o)
{
    if (!cJSON_GetObjectItemCaseSensitive(rec, "ids") &&
        !cJSON_GetObjectItemCaseSensitive(rec, "offsets")) {
        size_t end = r->len;
        while (end > 0 && r->line[end - 1] != '}')
            end--;
        fwrite(r->line, 1, end - 1, out);
        if (cJSON_GetArraySize(rec) > 0)
            fputc(',', out);
        put_ids(out, o);
        fputs("}\n", out);
        return 0;
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
    tok_reader r;
    if (tok_reader_open(&r, path, e) < 0)
        return -1;
    cJSON *rec = NULL;
    int rc;
    while ((rc = tok_reader_next(&r, &rec, e)) > 0) {
        const char *text;
        if (tok_string_field(&r, rec, o->field, 0, &text, e) < 0) {
            rc = -1;
            break;
        }
        if (bpe_encode(out, t, text, strlen(text), o->flags, e) < 0) {
            rc = err_prefix(e, "%s:%ld: field \"%s\"", r.name, r.lineno, o->field);
            break;
        }
        if (write_record(stdout, &r, rec, out) < 0) {
            rc = err_set(e, "out of memory");
            break;
        }
        cJSON_Delete(rec);
        rec = NULL;
    }
    cJSON_Delete(rec);
    tok_reader_close(&r);
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
    while ((c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
        int handled = cli_common_option(&o->cli, c, optarg);
        if (handled < 0)
            return CLI_USAGE;
        if (handled)
            continue;
        switch (c) {
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
    if (o.cli.help) {
        printf("usage: %s\n\n%s", usage, help);
        return cli_finish_stdout(&o.cli, CLI_OK);
    }
    if (o.cli.version)
        return cli_print_version(&o.cli);
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
