/* alarm-rm's validation (pairwise accuracy; per-label accuracy and F1 with
 * the majority baseline) and what it writes beside each checkpoint
 * (alarm-rm(1)): rm.json with the kind, the labels, and a sequence model's
 * score statistics over the training responses, and config.json's
 * id2label/label2id. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "json_file.h"
#include "rm_cli.h"

static int eval_pairs(rm_run *R, trainer_eval *ev, alarm_err *e)
{
    rm_pair_tally tl = {0};
    trainer *T = &R->T;
    if (train_eval_task(&T->m, &T->data, (const void *const *)R->val.ex, R->val.n,
                        (int)T->a->batch, &ev->loss, &tl, e) < 0)
        return -1;
    ev->accuracy = tl.pairs > 0 ? tl.correct / tl.pairs : 0;
    snprintf(ev->text, sizeof ev->text, ", val accuracy %.4f", ev->accuracy);
    return 0;
}

static int eval_spans(rm_run *R, trainer_eval *ev, alarm_err *e)
{
    rm_span_tally tl;
    memset(&tl, 0, sizeof tl);
    trainer *T = &R->T;
    if (train_eval_task(&T->m, &T->data, (const void *const *)R->val.ex, R->val.n,
                        (int)T->a->batch, &ev->loss, &tl, e) < 0)
        return -1;
    rm_span_report r;
    rm_span_summarise(&tl, R->n_labels, &r);
    ev->accuracy = r.accuracy_all;
    int n = snprintf(ev->text, sizeof ev->text, ", val accuracy %.4f (majority %.4f)",
                     r.accuracy_all, r.majority);
    cJSON *o = cJSON_CreateObject(), *labels = cJSON_AddObjectToObject(o, "labels");
    for (int k = 0; k < R->n_labels; k++) {
        cJSON *l = cJSON_AddObjectToObject(labels, R->label[k]);
        cJSON_AddNumberToObject(l, "spans", r.n[k]);
        if (r.accuracy[k] >= 0)
            cJSON_AddNumberToObject(l, "accuracy", r.accuracy[k]);
        else
            cJSON_AddNullToObject(l, "accuracy");
        cJSON_AddNumberToObject(l, "f1", r.f1[k]);
        if (n > 0 && (size_t)n < sizeof ev->text)
            n += snprintf(ev->text + n, sizeof ev->text - (size_t)n, ", %s acc %.3f F1 %.3f",
                          R->label[k], r.accuracy[k] >= 0 ? r.accuracy[k] : 0, r.f1[k]);
    }
    cJSON_AddNumberToObject(o, "spans", r.total);
    cJSON_AddNumberToObject(o, "accuracy", r.accuracy_all);
    cJSON_AddStringToObject(o, "majority_label", R->label[r.majority_label]);
    cJSON_AddNumberToObject(o, "majority_accuracy", r.majority);
    ev->metrics = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return ev->metrics ? 0 : err_set(e, "out of memory");
}

int rm_evaluate(trainer *T, trainer_eval *ev, alarm_err *e)
{
    rm_run *R = T->user;
    return R->a->kind == RM_SEQ ? eval_pairs(R, ev, e) : eval_spans(R, ev, e);
}

/* The mean and std (population) of the model's scores of every training
 * response, chosen and rejected, as they stand at this step. */
static int score_stats(rm_run *R, alarm_err *e)
{
    size_t n = R->train.n * 2;
    const seq **s = malloc(n * sizeof *s);
    float *r = malloc(n * sizeof *r);
    int rc = s && r ? 0 : err_set(e, "out of memory");
    for (size_t i = 0; rc == 0 && i < R->train.n; i++) {
        const rm_pair *p = R->train.ex[i];
        s[2 * i] = &p->chosen;
        s[2 * i + 1] = &p->rejected;
    }
    if (rc == 0)
        rc = rm_score(&R->task, &R->T.m, s, n, r, e);
    double sum = 0, sq = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        sum += r[i];
    R->mean = rc == 0 ? sum / (double)n : 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        sq += (r[i] - R->mean) * (r[i] - R->mean);
    R->std = rc == 0 ? sqrt(sq / (double)n) : 0;
    R->stats_step = R->T.st.step;
    free(s);
    free(r);
    return rc;
}

/* config.json as tfm_save wrote it, with the labels' names. */
static int name_labels(rm_run *R, const ckpt_writer *w, alarm_err *e)
{
    char path[4096];
    if (!ckpt_path(w, "config.json", path, sizeof path))
        return err_set(e, "config.json: path too long");
    cJSON *o = json_file_read(path, (size_t)1 << 20, e);
    if (!o)
        return -1;
    cJSON *id2label = cJSON_CreateObject(), *label2id = cJSON_CreateObject();
    for (int k = 0; k < R->n_labels; k++) {
        char key[16];
        snprintf(key, sizeof key, "%d", k);
        cJSON_AddStringToObject(id2label, key, R->label[k]);
        cJSON_AddNumberToObject(label2id, R->label[k], k);
    }
    cJSON_ReplaceItemInObject(o, "id2label", id2label);
    cJSON_DeleteItemFromObject(o, "label2id");
    cJSON_AddItemToObject(o, "label2id", label2id);
    char *out = cJSON_Print(o);
    cJSON_Delete(o);
    int rc = out ? ckpt_write_file(w, "config.json", out, strlen(out), e)
                 : err_set(e, "out of memory");
    free(out);
    return rc;
}

int rm_check_labels(const rm_run *R, const char *dir, alarm_err *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    cJSON *o = json_file_read(path, (size_t)1 << 20, e);
    if (!o)
        return -1;
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(o, "architectures");
    const cJSON *a0 = cJSON_GetArrayItem(archs, 0);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(o, "id2label");
    int rc = 0;
    /* a language model gets a new head: only a token classifier has labels to keep */
    if (cJSON_IsString(a0) && strstr(a0->valuestring, "ForTokenClassification"))
        for (int k = 0; rc == 0 && k < R->n_labels; k++) {
            char key[16];
            snprintf(key, sizeof key, "%d", k);
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(map, key);
            if (!cJSON_IsString(name) || strcmp(name->valuestring, R->label[k]))
                rc = err_set(e, "%s: label %d of the checkpoint is %s%s%s, not \"%s\" of "
                             "--labels %s", path, k, cJSON_IsString(name) ? "\"" : "",
                             cJSON_IsString(name) ? name->valuestring : "unnamed",
                             cJSON_IsString(name) ? "\"" : "", R->label[k], R->a->labels);
        }
    cJSON_Delete(o);
    return rc;
}

int rm_write_extra(trainer *T, const ckpt_writer *w, alarm_err *e)
{
    rm_run *R = T->user;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", R->a->kind == RM_SEQ ? "seq" : "spans");
    if (R->a->kind == RM_SEQ) {
        if (R->stats_step != T->st.step && score_stats(R, e) < 0) {
            cJSON_Delete(o);
            return -1;
        }
        cJSON *st = cJSON_AddObjectToObject(o, "score");
        cJSON_AddNumberToObject(st, "mean", R->mean);
        cJSON_AddNumberToObject(st, "std", R->std);
        cJSON_AddNumberToObject(st, "responses", (double)(2 * R->train.n));
    } else {
        cJSON *l = cJSON_AddArrayToObject(o, "labels");
        for (int k = 0; k < R->n_labels; k++)
            cJSON_AddItemToArray(l, cJSON_CreateString(R->label[k]));
        cJSON_AddStringToObject(o, "segment", R->a->subsentence ? "subsentence" : "sentence");
    }
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    int rc = text ? ckpt_write_file(w, "rm.json", text, strlen(text), e)
                  : err_set(e, "out of memory");
    free(text);
    return rc < 0 ? -1 : R->a->kind == RM_SPANS ? name_labels(R, w, e) : 0;
}
