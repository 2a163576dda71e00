/* tfm_ckpt: loading through the safetensors module and saving through the
 * atomic checkpoint writer (alarm-formats(5) section 7). */
#include "tfm_ckpt.h"
#include "tfm_lora.h"
#include "tfm_lora_ckpt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt.h"
#include "st.h"

static int st_src_find(void *ctx, const char *name, int *ndim, int64_t shape[8])
{
    const st_tensor *t = st_find(ctx, name);
    if (!t)
        return 0;
    *ndim = t->ndim;
    for (int d = 0; d < t->ndim && d < 8; d++)
        shape[d] = t->shape[d];
    return 1;
}

static int st_src_read(void *ctx, const char *name, float *dst, alarm_err *e)
{
    const st_tensor *t = st_find(ctx, name);
    if (!t)
        return err_set(e, "missing");
    return st_to_f32(t, dst, e);
}

/* The dtype holding most of the stored elements: what the model was saved
 * as, whatever config.json claims. */
static st_dtype stored_dtype(const st_set *s)
{
    size_t count[ST_OTHER] = {0};
    for (size_t i = 0; i < st_count(s); i++)
        if (st_at(s, i)->dtype < ST_OTHER)
            count[st_at(s, i)->dtype] += st_at(s, i)->numel;
    st_dtype best = ST_F32;
    for (st_dtype d = ST_F32; d < ST_OTHER; d++)
        if (count[d] > count[best])
            best = d;
    return best;
}

int tfm_load(tfm_model *m, const char *dir, int B, int T, int flags, alarm_err *e)
{
    if (tfm_lora_is_adapter_dir(dir))
        return tfm_lora_load_dir(m, dir, B, T, flags, e);
    return tfm_load_lora(m, dir, NULL, B, T, flags, e);
}

int tfm_load_lora(tfm_model *m, const char *dir, const tfm_lora_opts *o, int B, int T, int flags,
                  alarm_err *e)
{
    tfm_config cfg;
    st_set *s = NULL;
    memset(m, 0, sizeof *m);
    if (tfm_config_load(&cfg, dir, e))
        return -1;
    if (st_open(&s, dir, e))
        return -1;
    tfm_source src = {s, st_src_find, st_src_read};
    cfg.value_head = (flags & TFM_LOAD_VALUE_HEAD) || tfm_source_has_value_head(&src);
    if (cfg.lm_head && (flags & TFM_LOAD_LOGITS_ROWS))
        cfg.lm_head = TFM_LM_ROWS;
    cfg.dtype = stored_dtype(s);
    if (T <= 0)
        T = tfm_config_max_len(&cfg) < 1024 ? tfm_config_max_len(&cfg) : 1024;
    if (o && tfm_lora_configure(&cfg, o, e)) {
        st_close(s);
        return err_prefix(e, "%s", dir);
    }
    int rc = tfm_build(m, &cfg, B, T, e);
    if (rc == 0 && (rc = tfm_load_from(m, &src, !(flags & TFM_LOAD_NO_CHECK), e)) != 0) {
        err_prefix(e, "%s", dir);
        tfm_free(m);
    }
    if (rc == 0 && o)
        tfm_lora_set_base(m, dir);
    st_close(s);
    return rc;
}

/* config.json saying in "torch_dtype" what is written. */
static int write_config(const ckpt_writer *w, const tfm_config *cfg, st_dtype dtype,
                        alarm_err *e)
{
    tfm_config c = *cfg;
    c.dtype = dtype;
    char *json = tfm_config_to_json(&c);
    int rc = json ? ckpt_write_file(w, "config.json", json, strlen(json), e)
                  : err_set(e, "out of memory");
    free(json);
    return rc;
}

static int write_weights(const tfm_model *m, const char *dir, const tfm_save_opts *o,
                         alarm_err *e)
{
    st_out *outs = calloc((size_t)m->ntab, sizeof *outs);
    if (!outs)
        return err_set(e, "out of memory");
    size_t n = 0;
    for (int i = 0; i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        if (tfm_lora_is_adapter(t))
            continue; /* adapters go to an adapter directory (tfm_lora_save) */
        outs[n].name = t->name;
        outs[n].data = m->params + t->offset;
        outs[n].ndim = t->ndim;
        outs[n].shape[0] = t->shape[0];
        outs[n].shape[1] = t->shape[1];
        n++;
    }
    static const char *const meta[] = {"format", "pt", NULL};
    int rc = st_write_dir(dir, outs, n, o->dtype, o->max_shard_bytes, meta, e);
    free(outs);
    return rc;
}

int tfm_save_as(const tfm_model *m, const char *dir, const char *tokenizer_dir,
                const tfm_save_opts *opts, alarm_err *e)
{
    static const tfm_save_opts f32_one_file = {ST_F32, 0, NULL, NULL};
    if (!opts)
        opts = &f32_one_file;
    /* checked before anything exists on disk */
    if (opts->dtype != ST_F32 && opts->dtype != ST_BF16 && opts->dtype != ST_F16)
        return err_set(e, "%s: weights are saved as F32, BF16 or F16 only", dir);
    ckpt_writer w;
    char path[8192];
    if (ckpt_begin(&w, dir, e))
        return -1;
    int rc;
    if (m->cfg.lora.r) {
        rc = tfm_lora_write(m, &w, e);
    } else {
        rc = write_config(&w, &m->cfg, opts->dtype, e);
        if (!rc)
            rc = write_weights(m, w.tmp_dir, opts, e);
    }
    static const char *const tok_files[] = {"tokenizer.json", "tokenizer_config.json",
                                            "special_tokens_map.json"};
    for (size_t i = 0; !rc && tokenizer_dir && i < sizeof tok_files / sizeof *tok_files; i++) {
        snprintf(path, sizeof path, "%s/%s", tokenizer_dir, tok_files[i]);
        if (access(path, R_OK) == 0)
            rc = ckpt_copy_file(&w, path, tok_files[i], e);
    }
    if (!rc && opts->extra)
        rc = opts->extra(&w, opts->extra_ctx, e);
    if (!rc)
        rc = ckpt_commit(&w, e);
    if (rc) {
        ckpt_abort(&w);
        return err_prefix(e, "%s", dir);
    }
    return 0;
}

int tfm_save(const tfm_model *m, const char *dir, const char *tokenizer_dir, alarm_err *e)
{
    return tfm_save_as(m, dir, tokenizer_dir, NULL, e);
}
