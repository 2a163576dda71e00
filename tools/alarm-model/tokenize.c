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
#include "record.h"

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

/* The ids array then the offsets array, into out, each starting at *mid
 * and the end. */
static void put_ids(FILE *out, const bpe_out *o, long *mid)
{
    char buf[4096], *p = buf;
    *p++ = '[';
    for (size_t i = 0; i < o->n; i++) {
        if (p - buf > (long)sizeof buf - 64)
            fwrite(buf, 1, (size_t)(p - buf), out), p = buf;
        if (i)
            *p++ = ',';
        p = put_u(p, (size_t)o->ids[i]);
    }
    memcpy(p, "][", 2);
    p += 2;
    fwrite(buf, 1, (size_t)(p - buf), out), p = buf;
    *mid = ftell(out) - 1;
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

/* Writes the record's raw line with ids and offsets last (old ones removed). */
static int write_record(FILE *out, const jsonl_reader *r, const bpe_out *o, alarm_err *e)
{
    char *text = NULL;
    size_t n = 0;
    long mid = 0;
    FILE *m = open_memstream(&text, &n);
    if (!m)
        return err_set(e, "out of memory");
    put_ids(m, o, &mid);
    if (fclose(m) != 0) {
        free(text);
        return err_set(e, "out of memory");
    }
    record_field f[] = {{"ids", text, (size_t)mid, 1},
                        {"offsets", text + mid, n - (size_t)mid, 1}};
    int rc = record_splice(out, r->line, r->len, f, 2, e);
    free(text);
    if (rc == 0 && putc('\n', out) == EOF)
        rc = err_set(e, "write error");
    return rc;
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
    return write_record(stdout, r, &a->out, e);
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
