/* alarm-model tokenize: JSONL records with a text field in, the same records
 * with "ids" and "offsets" (byte spans into the text) added. Records that do
 * not have those fields yet are copied byte for byte, fields appended. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe.h"
#include "drive.h"
#include "jsonl.h"
#include "model_cmds.h"
#include "opt.h"
#include "out.h"

typedef struct {
    const char *tokenizer;
    const char *field;
    int add_special;
    bpe *t;
    bpe_out out;
} args;

#define AT(f) offsetof(args, f)
static const opt_def opts[] = {
    {"tokenizer", 0, "FILE|DIR", "tokenizer.json, or a checkpoint directory holding one",
     .type = OPT_STR, .off = AT(tokenizer)},
    {"add-special", 0, NULL, "apply the tokenizer's post-processor (e.g. a BOS token)",
     .type = OPT_FLAG, .off = AT(add_special)},
    {"field", 0, "NAME", "the field to tokenize", "text", .type = OPT_STR, .off = AT(field)},
    {0},
};

static const tool_spec spec = {
    .name = "alarm-model",
    .cmd = "tokenize",
    .id = TOOL_MODEL_TOKENIZE,
    .usage = "alarm-model tokenize --tokenizer FILE|DIR [--add-special] [--field NAME] [FILE...]",
    .about = "Adds \"ids\" and \"offsets\" to each JSONL record, tokenizing its \"text\" field\n"
             "(or --field NAME) with a Hugging Face tokenizer.json. Reads FILEs or stdin.\n",
    .opts = opts,
    .page = "alarm-model(1)",
};

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

static int tokenize_record(void *user, jsonl_reader *r, cJSON **rec, alarm_err *e)
{
    args *a = user;
    const char *text;
    if (jsonl_req_string(r, *rec, NULL, a->field, &text, e) < 0)
        return -1;
    if (bpe_encode(&a->out, a->t, text, strlen(text), a->add_special ? BPE_ADD_SPECIAL : 0,
                   e) < 0)
        return err_prefix(e, "%s:%ld: field \"%s\"", r->name, r->lineno, a->field);
    return write_record(stdout, r, *rec, &a->out) < 0 ? err_set(e, "cannot write the record") : 0;
}

int model_cmd_tokenize(int argc, char **argv)
{
    args a = {.field = "text"};
    tool t;
    alarm_err e;
    int status = opt_parse(&t, &spec, &a, argc, argv);
    if (status >= 0)
        return status;
    if (!a.tokenizer)
        return tool_usage(&t, "--tokenizer is required");
    drive d = {.t = &t, .fn = tokenize_record, .user = &a};
    status = TOOL_OK;
    if (bpe_load(&a.t, a.tokenizer, &e) < 0 || drive_files(&d, &e) < 0)
        status = tool_fail(&t, e.msg);
    bpe_out_free(&a.out);
    bpe_free(a.t);
    return tool_finish(&t, status);
}
