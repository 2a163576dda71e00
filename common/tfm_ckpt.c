/* tfm_ckpt: loading through the safetensors module and saving through the
 * atomic checkpoint writer (FORMATS.md section 7). */
#include "tfm_ckpt.h"

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

int tfm_load(tfm_model *m, const char *dir, int B, int T, int flags, alarm_err *e)
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
    if (T <= 0)
        T = tfm_config_max_len(&cfg) < 1024 ? tfm_config_max_len(&cfg) : 1024;
    int rc = tfm_build(m, &cfg, B, T, e);
    if (rc == 0 && (rc = tfm_load_from(m, &src, e)) != 0) {
        err_prefix(e, "%s", dir);
        tfm_free(m);
    }
    st_close(s);
    return rc;
}

static int write_text(const char *path, const char *text, alarm_err *e)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return err_set(e, "%s: cannot create", path);
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, f) != n;
    bad |= fclose(f) != 0;
    return bad ? err_set(e, "%s: write failed", path) : 0;
}

static int write_weights(const tfm_model *m, const char *path, alarm_err *e)
{
    st_out *outs = calloc((size_t)m->ntab, sizeof *outs);
    if (!outs)
        return err_set(e, "out of memory");
    for (int i = 0; i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        outs[i].name = t->name;
        outs[i].data = m->params + t->offset;
        outs[i].ndim = t->ndim;
        outs[i].shape[0] = t->shape[0];
        outs[i].shape[1] = t->shape[1];
    }
    static const char *const meta[] = {"format", "pt", NULL};
    int rc = st_write(path, outs, (size_t)m->ntab, ST_F32, meta, e);
    free(outs);
    return rc;
}

int tfm_save(const tfm_model *m, const char *dir, const char *tokenizer_dir, alarm_err *e)
{
    ckpt_writer w;
    char path[8192];
    if (ckpt_begin(&w, dir, e))
        return -1;
    char *cfg = tfm_config_to_json(&m->cfg);
    int rc = cfg ? write_text(ckpt_path(&w, "config.json", path, sizeof path), cfg, e)
                 : err_set(e, "out of memory");
    free(cfg);
    if (!rc)
        rc = write_weights(m, ckpt_path(&w, "model.safetensors", path, sizeof path), e);
    static const char *const tok_files[] = {"tokenizer.json", "tokenizer_config.json",
                                            "special_tokens_map.json"};
    for (size_t i = 0; !rc && tokenizer_dir && i < sizeof tok_files / sizeof *tok_files; i++) {
        snprintf(path, sizeof path, "%s/%s", tokenizer_dir, tok_files[i]);
        if (access(path, R_OK) == 0)
            rc = ckpt_copy_file(&w, path, tok_files[i], e);
    }
    if (!rc)
        rc = ckpt_commit(&w, e);
    if (rc) {
        ckpt_abort(&w);
        return err_prefix(e, "%s", dir);
    }
    return 0;
}
