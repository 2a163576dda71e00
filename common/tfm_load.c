/* tfm_load: filling a built model's parameter table from a tensor source,
 * by Hugging Face name, checking every shape. Kept apart from the file
 * format so tests can feed tensors from anywhere. */
#include "tfm_ckpt.h"
#include "tfm_lora.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The name as stored, or without the "transformer."/"model." prefix. */
static int lookup(const tfm_source *src, const char *name, const char **used, int *ndim,
                  int64_t shape[8])
{
    *used = name;
    if (src->find(src->ctx, name, ndim, shape))
        return 1;
    const char *dot = strchr(name, '.');
    if (dot && (!strncmp(name, "transformer.", 12) || !strncmp(name, "model.", 6))) {
        *used = dot + 1;
        return src->find(src->ctx, dot + 1, ndim, shape);
    }
    return 0;
}

int tfm_source_has_value_head(const tfm_source *src)
{
    int ndim;
    int64_t shape[8];
    return src->find(src->ctx, "v_head.summary.weight", &ndim, shape);
}

/* Index of the first NaN or infinity in x[0, n), or n. Exponent bits all set
 * means non-finite; testing the bits in blocks keeps the scan at memory
 * speed, and only a block that has one is searched again. */
static size_t first_non_finite(const float *x, size_t n)
{
    enum { BLOCK = 4096 };
    for (size_t at = 0; at < n; at += BLOCK) {
        size_t end = n - at < BLOCK ? n : at + BLOCK;
        uint32_t bad = 0;
        for (size_t i = at; i < end; i++) {
            uint32_t u;
            memcpy(&u, &x[i], sizeof u);
            bad |= (u & 0x7f800000u) == 0x7f800000u;
        }
        if (bad)
            for (size_t i = at; i < end; i++)
                if (!isfinite(x[i]))
                    return i;
    }
    return n;
}

int tfm_check_finite(const tfm_model *m, alarm_err *e)
{
    for (int i = 0; i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        size_t bad = first_non_finite(m->params + t->offset, t->numel);
        if (bad < t->numel)
            return err_set(e, "tensor %s holds a non-finite value at element %zu", t->name, bad);
    }
    return 0;
}

int tfm_load_from(tfm_model *m, const tfm_source *src, int check, alarm_err *e)
{
    for (int i = 0; i < m->ntab; i++) {
        const tfm_tensor *t = &m->tab[i];
        if (tfm_lora_is_adapter(t))
            continue; /* a base checkpoint has none: tfm_lora_load reads them */
        const char *used;
        int ndim;
        int64_t shape[8];
        if (!lookup(src, t->name, &used, &ndim, shape)) {
            if (!strncmp(t->name, "v_head.", 7))
                continue; /* a value head the checkpoint lacks starts at zero */
            if (m->cfg.lora.r && t->offset >= m->toff)
                continue; /* a head trained beside adapters: the adapter directory's */
            return err_set(e, "tensor %s is missing", t->name);
        }
        size_t numel = 1;
        for (int d = 0; d < ndim; d++)
            numel *= (size_t)shape[d];
        /* trl's v_head bias is (1) and its weight (1, C); a scalar bias is also fine */
        int ok = ndim == t->ndim && shape[0] == t->shape[0] &&
                 (t->ndim == 1 || shape[1] == t->shape[1]);
        if (!ok && !(numel == t->numel && !strncmp(t->name, "v_head.", 7))) {
            char want[64], got[96];
            snprintf(want, sizeof want, t->ndim == 1 ? "[%lld]" : "[%lld, %lld]",
                     (long long)t->shape[0], (long long)t->shape[1]);
            int n = snprintf(got, sizeof got, "[");
            for (int d = 0; d < ndim && n < 80; d++)
                n += snprintf(got + n, sizeof got - n, d ? ", %lld" : "%lld", (long long)shape[d]);
            snprintf(got + n, sizeof got - n, "]");
            return err_set(e, "tensor %s has shape %s, expected %s", used, got, want);
        }
        float *dst = m->params + t->offset;
        if (src->read(src->ctx, used, dst, e))
            return err_prefix(e, "tensor %s", used);
        size_t bad = check ? first_non_finite(dst, t->numel) : t->numel;
        if (bad < t->numel)
            return err_set(e, "tensor %s holds a non-finite value (%s) at element %zu", used,
                           isnan(dst[bad]) ? "NaN" : dst[bad] > 0 ? "inf" : "-inf", bad);
    }
    return 0;
}
