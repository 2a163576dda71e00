/* train_state: a trainer's state beside its checkpoint (train.h), in files
 * a person can read: trainer_state.json (step, epoch, cursor, best
 * validation loss, the settings the schedule depends on) and
 * optimizer.safetensors (exp_avg.NAME and exp_avg_sq.NAME per tensor, as
 * torch's AdamW names them, and master.NAME fp32 weights when the
 * checkpoint's weights are 16-bit). */
#include "json_file.h"
#include "train.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st.h"

static const char *const sched_names[] = {"constant", "linear", "cosine"};

/* The settings a resumed run must share with the saved one, as JSON values:
 * 64-bit integers as strings (a double cannot hold them), floats as numbers. */
enum { SETTINGS = 13 };
static void settings(const train_cfg *c, const char *name[SETTINGS], char value[SETTINGS][40])
{
    const tfm_adamw *o = &c->opt;
    int k = 0;
#define SET(n, ...) (name[k] = n, snprintf(value[k++], 40, __VA_ARGS__))
    SET("examples", "%zu", c->examples);
    SET("data_hash", "\"%016llx\"", (unsigned long long)c->data_hash);
    SET("seed", "\"%llu\"", (unsigned long long)c->seed);
    SET("batch", "%d", c->batch);
    SET("grad_accum", "%d", c->grad_accum);
    SET("lr", "%.9g", o->lr);
    SET("betas", "[%.9g, %.9g]", o->beta1, o->beta2);
    SET("eps", "%.9g", o->eps);
    SET("weight_decay", "%.9g", o->weight_decay);
    SET("max_grad_norm", "%.9g", o->grad_clip);
    SET("schedule", "\"%s\"", sched_names[o->sched]);
    SET("warmup", "%d", o->warmup);
    SET("total_steps", "%d", o->total);
#undef SET
}

static char *state_json(const train_state *st, const train_cfg *c)
{
    cJSON *o = cJSON_CreateObject(), *set = cJSON_CreateObject();
    if (!o || !set) {
        cJSON_Delete(o);
        cJSON_Delete(set);
        return NULL;
    }
    cJSON_AddStringToObject(o, "format", "alarm trainer state 1");
    cJSON_AddNumberToObject(o, "step", (double)st->step);
    cJSON_AddNumberToObject(o, "epoch", st->epoch);
    cJSON_AddNumberToObject(o, "cursor", (double)st->cursor);
    cJSON_AddNumberToObject(o, "tokens", st->tokens);
    if (st->best_val >= 0) {
        cJSON_AddNumberToObject(o, "best_val_loss", st->best_val);
        cJSON_AddNumberToObject(o, "best_step", (double)st->best_step);
    }
    cJSON_AddItemToObject(o, "settings", set);
    const char *name[SETTINGS];
    char value[SETTINGS][40];
    settings(c, name, value);
    for (int k = 0; k < SETTINGS; k++)
        cJSON_AddItemToObject(set, name[k], cJSON_Parse(value[k]));
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

/* Each setting of c against the saved object's, by its JSON text. */
static int check_settings(const cJSON *o, const char *path, const train_cfg *c, alarm_err *e)
{
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(o, "settings");
    const char *name[SETTINGS];
    char value[SETTINGS][40];
    settings(c, name, value);
    for (int k = 0; k < SETTINGS; k++) {
        cJSON *now = cJSON_Parse(value[k]);
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(set, name[k]);
        int same = now && was && cJSON_Compare(now, was, 1);
        char *was_text = was ? cJSON_PrintUnformatted(was) : NULL;
        cJSON_Delete(now);
        if (!same) {
            err_set(e, "%s: the run was saved with %s %s, this one has %s: resume with the "
                       "same data and settings, or start a new --out",
                    path, name[k], was_text ? was_text : "(missing)", value[k]);
            free(was_text);
            return -1;
        }
        free(was_text);
    }
    return 0;
}

int train_state_save(const ckpt_writer *w, const train_state *st, const train_cfg *c,
                     const tfm_model *m, int what, alarm_err *e)
{
    char *json = state_json(st, c);
    if (!json)
        return err_set(e, "out of memory");
    int rc = ckpt_write_file(w, "trainer_state.json", json, strlen(json), e);
    free(json);
    if (rc || !(what & TRAIN_SAVE_OPTIMIZER))
        return rc;
    int per = what & TRAIN_SAVE_MASTER ? 3 : 2;
    size_t n = (size_t)m->ntab * per;
    st_out *outs = calloc(n, sizeof *outs);
    char (*names)[160] = calloc(n, sizeof *names);
    if (!rc && (!outs || !names))
        rc = err_set(e, "out of memory");
    static const char *const prefix[] = {"exp_avg", "exp_avg_sq", "master"};
    size_t j = 0;
    for (int i = 0; !rc && i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        if (t->offset < m->toff) /* frozen: no moments, its weights the base's own */
            continue;
        const float *src[3] = {tfm_span_at(m, m->m, t), tfm_span_at(m, m->v, t),
                               m->params + t->offset};
        for (int k = 0; k < per; k++, j++) {
            st_out *o = &outs[j];
            snprintf(names[j], sizeof *names, "%s.%s", prefix[k], t->name);
            o->name = names[j];
            o->data = src[k];
            o->ndim = t->ndim;
            o->shape[0] = t->shape[0];
            o->shape[1] = t->shape[1];
        }
    }
    char path[8192];
    if (!rc && !ckpt_path(w, "optimizer.safetensors", path, sizeof path))
        rc = err_set(e, "checkpoint path too long");
    if (!rc)
        rc = st_write(path, outs, j, ST_F32, NULL, e);
    free(outs);
    free(names);
    return rc;
}

static int get_count(const cJSON *o, const char *path, const char *name, double *v,
                     alarm_err *e)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(f) || f->valuedouble < 0 || f->valuedouble != floor(f->valuedouble))
        return err_set(e, "%s: field \"%s\": expected a count", path, name);
    *v = f->valuedouble;
    return 0;
}

static int read_state(const char *dir, const train_cfg *c, train_state *st, alarm_err *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    cJSON *o = json_file_read(path, (size_t)1 << 20, e);
    if (!o)
        return err_prefix(e, "cannot resume");
    double step, epoch, cursor, tokens;
    int rc = get_count(o, path, "step", &step, e) || get_count(o, path, "epoch", &epoch, e) ||
                     get_count(o, path, "cursor", &cursor, e) ||
                     get_count(o, path, "tokens", &tokens, e)
                 ? -1
                 : 0;
    if (!rc && c)
        rc = check_settings(o, path, c, e);
    const cJSON *bv = cJSON_GetObjectItemCaseSensitive(o, "best_val_loss");
    const cJSON *bs = cJSON_GetObjectItemCaseSensitive(o, "best_step");
    if (!rc) {
        st->step = (long)step;
        st->epoch = (int)epoch;
        st->cursor = (size_t)cursor;
        st->tokens = tokens;
        st->best_val = cJSON_IsNumber(bv) ? bv->valuedouble : -1;
        st->best_step = cJSON_IsNumber(bs) ? (long)bs->valuedouble : 0;
    }
    cJSON_Delete(o);
    return rc;
}

int train_state_load(const char *dir, const train_cfg *c, train_state *st, tfm_model *m,
                     alarm_err *e)
{
    if (read_state(dir, c, st, e) < 0)
        return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/optimizer.safetensors", dir);
    st_set *s = NULL;
    if (st_open(&s, path, e) < 0)
        return err_prefix(e, "cannot resume");
    static const char *const prefix[] = {"exp_avg", "exp_avg_sq", "master"};
    int rc = 0;
    for (int i = 0; !rc && i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        if (t->offset < m->toff)
            continue;
        float *dst[3] = {tfm_span_at(m, m->m, t), tfm_span_at(m, m->v, t),
                         m->params + t->offset};
        for (int k = 0; !rc && k < 3; k++) {
            char name[160];
            snprintf(name, sizeof name, "%s.%s", prefix[k], t->name);
            const st_tensor *x = st_find(s, name);
            if (!x && k == 2)
                continue; /* fp32 weights: the checkpoint's own */
            if (!x || x->numel != t->numel)
                rc = err_set(e, "%s: tensor %s %s", path, name, x ? "has the wrong size" : "is missing");
            else
                rc = st_to_f32(x, dst[k], e);
        }
    }
    st_close(s);
    return rc;
}
