/* alarm-sft's input: demonstration records (alarm-formats(5) section 1) read
 * through the record driver and encoded as prompt + response + EOS, the
 * response and the EOS being what the loss is taken on. */
#include <stdlib.h>
#include <string.h>

#include "drive.h"
#include "grow.h"
#include "jsonl.h"
#include "sft_cli.h"

typedef struct {
    sft_run *R;
    sft_set *s;
} reading;

static int take_demo(void *user, jsonl_reader *rd, cJSON **rec, alarm_err *e)
{
    reading *g = user;
    sft_run *R = g->R;
    trainer *T = &R->T;
    const char *id = NULL, *prompt, *response;
    if (jsonl_opt_string(rd, *rec, NULL, "id", &id, e) < 0 ||
        jsonl_req_string(rd, *rec, NULL, "prompt", &prompt, e) < 0 ||
        jsonl_req_string(rd, *rec, NULL, "response", &response, e) < 0)
        return -1;
    if (!*response)
        return jsonl_fail(rd, e, "field \"response\": empty: nothing to learn (the EOS alone "
                                 "would teach the model to say nothing)");
    if (grow_array(&g->s->ex, &g->s->cap, g->s->n + 1, sizeof *g->s->ex, 1024, e) < 0)
        return -1;
    seq *x = calloc(1, sizeof *x);
    if (!x)
        return err_set(e, "out of memory");
    g->s->ex[g->s->n++] = x;
    if (seq_encode(x, &T->se, prompt, strlen(prompt), response, strlen(response), e) < 0 ||
        (T->eos >= 0 && seq_append(x, T->eos, e) < 0))
        return id ? err_prefix(e, "%s:%ld: id \"%s\"", rd->name, rd->lineno, id) : -1;
    if (x->cut)
        g->s->truncated++;
    return 0;
}

int sft_read(sft_run *R, sft_set *s, char **files, int nfiles, alarm_err *e)
{
    tool t = *R->T.t; /* the driver reads t.args: these files */
    t.args = files;
    t.nargs = nfiles;
    reading g = {R, s};
    drive d = {.t = &t, .fn = take_demo, .user = &g};
    if (drive_files(&d, e) < 0)
        return -1;
    if (s->n == 0)
        return err_set(e, "%s: no demonstration records", nfiles ? files[0] : "<stdin>");
    return 0;
}

void sft_set_free(sft_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        seq_free(s->ex[i]);
        free(s->ex[i]);
    }
    free(s->ex);
    memset(s, 0, sizeof *s);
}
