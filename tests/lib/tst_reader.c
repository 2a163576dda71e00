/* tst_reader: see tst_reader.h. Reads the whole file; F32 tensors only. */
#include "tst_reader.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tst_file {
    unsigned char *buf;
    size_t len, data_off;
    cJSON *hdr;
};

tst_file *tst_open(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    tst_file *f = calloc(1, sizeof *f);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->buf = malloc(n > 0 ? (size_t)n : 1);
    f->len = fread(f->buf, 1, (size_t)n, fp);
    fclose(fp);
    uint64_t hl = 0;
    for (int i = 7; f->len >= 8 && i >= 0; i--)
        hl = hl << 8 | f->buf[i];
    if (f->len < 8 || hl > f->len - 8) {
        tst_close(f);
        return NULL;
    }
    f->hdr = cJSON_ParseWithLength((const char *)f->buf + 8, (size_t)hl);
    f->data_off = 8 + (size_t)hl;
    if (!f->hdr) {
        tst_close(f);
        return NULL;
    }
    return f;
}

void tst_close(tst_file *f)
{
    if (!f)
        return;
    cJSON_Delete(f->hdr);
    free(f->buf);
    free(f);
}

const float *tst_get(tst_file *f, const char *name, int *ndim, int64_t shape[8])
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(f->hdr, name);
    if (!t || strcmp(name, "__metadata__") == 0)
        return NULL;
    const cJSON *dt = cJSON_GetObjectItem(t, "dtype"), *sh = cJSON_GetObjectItem(t, "shape");
    const cJSON *off = cJSON_GetObjectItem(t, "data_offsets");
    if (!cJSON_IsString(dt) || strcmp(dt->valuestring, "F32") || !cJSON_IsArray(sh) ||
        !cJSON_IsArray(off))
        return NULL;
    int nd = 0;
    size_t numel = 1;
    const cJSON *d;
    cJSON_ArrayForEach(d, sh)
    {
        if (nd < 8)
            shape[nd++] = (int64_t)d->valuedouble;
        numel *= (size_t)d->valuedouble;
    }
    size_t b = (size_t)cJSON_GetArrayItem(off, 0)->valuedouble;
    size_t e = (size_t)cJSON_GetArrayItem(off, 1)->valuedouble;
    if (e - b != numel * 4 || f->data_off + e > f->len)
        return NULL;
    *ndim = nd;
    return (const float *)(f->buf + f->data_off + b);
}

size_t tst_numel(tst_file *f, const char *name)
{
    int nd;
    int64_t shape[8];
    if (!tst_get(f, name, &nd, shape))
        return 0;
    size_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= (size_t)shape[i];
    return n;
}

static int src_find(void *ctx, const char *name, int *ndim, int64_t shape[8])
{
    return tst_get(ctx, name, ndim, shape) != NULL;
}

static int src_read(void *ctx, const char *name, float *dst, alarm_err *e)
{
    int nd;
    int64_t shape[8];
    const float *p = tst_get(ctx, name, &nd, shape);
    if (!p)
        return err_set(e, "missing");
    memcpy(dst, p, tst_numel(ctx, name) * sizeof *dst);
    return 0;
}

tfm_source tst_source(tst_file *f)
{
    tfm_source s = {f, src_find, src_read};
    return s;
}

int tst_load_model(tfm_model *m, const char *dir, int B, int T, alarm_err *e)
{
    tfm_config cfg;
    char path[4096];
    if (tfm_config_load(&cfg, dir, e))
        return -1;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    tst_file *f = tst_open(path);
    if (!f)
        return err_set(e, "%s: cannot read", path);
    tfm_source src = tst_source(f);
    cfg.value_head = tfm_source_has_value_head(&src);
    int rc = tfm_build(m, &cfg, B, T, e);
    if (!rc && (rc = tfm_load_from(m, &src, 1, e)) != 0)
        tfm_free(m);
    tst_close(f);
    return rc;
}
