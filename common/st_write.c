/* st_write: writing a safetensors file the way the reference implementation
 * lays it out (header padded with spaces so the data block starts at a
 * multiple of 8, tensors contiguous in the order given), through a temporary
 * file in the same directory that is fsynced and renamed over `path`. */
/* The sanitizer build replaces CFLAGS (and its -D_GNU_SOURCE): ask here. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "grow.h"
#include "st.h"
#include "fsio.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} st_buf;

static void buf_add(st_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (grow_array(&b->p, &b->cap, b->len + n + 1, 1, 256, NULL) < 0) {
        b->oom = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_printf(st_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(st_buf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    buf_add(b, tmp, n < (int)sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string: quotes, backslashes and control bytes escaped, UTF-8 kept. */
static void buf_json_str(st_buf *b, const char *s)
{
    buf_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            buf_add(b, esc, 2);
        } else if (c < 0x20) {
            buf_printf(b, "\\u%04x", c);
        } else {
            buf_add(b, (const char *)&c, 1);
        }
    }
    buf_add(b, "\"", 1);
}

static int name_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Checks the request and computes each tensor's element count. */
static int validate(const char *path, const st_out *t, size_t n, size_t *numel, alarm_err *e)
{
    for (size_t i = 0; i < n; i++) {
        if (!t[i].name || !t[i].name[0] || strcmp(t[i].name, "__metadata__") == 0)
            return err_set(e, "%s: tensor %zu: invalid name", path, i);
        if (t[i].ndim < 0 || t[i].ndim > ST_MAX_DIMS)
            return err_set(e, "%s: tensor \"%s\": %d dimensions", path, t[i].name, t[i].ndim);
        size_t m = 1;
        for (int d = 0; d < t[i].ndim; d++)
            if (t[i].shape[d] < 0 || __builtin_mul_overflow(m, (size_t)t[i].shape[d], &m) ||
                m > SIZE_MAX / 4)
                return err_set(e, "%s: tensor \"%s\": bad shape", path, t[i].name);
        if (m && !t[i].data)
            return err_set(e, "%s: tensor \"%s\": no data", path, t[i].name);
        numel[i] = m;
    }
    const char **names = malloc((n + 1) * sizeof *names);
    if (!names)
        return err_set(e, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++)
        names[i] = t[i].name;
    qsort(names, n, sizeof *names, name_ptr_cmp);
    int rc = 0;
    for (size_t i = 1; i < n && rc == 0; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            rc = err_set(e, "%s: tensor \"%s\" given twice", path, names[i]);
    free(names);
    return rc;
}

static void build_header(st_buf *b, const st_out *t, size_t n, const size_t *numel,
                         size_t esize, const char *dname, const char *const *metadata)
{
    buf_add(b, "{", 1);
    int first = 1;
    if (metadata && metadata[0]) {
        buf_add(b, "\"__metadata__\":{", 16);
        for (size_t k = 0; metadata[k] && metadata[k + 1]; k += 2) {
            if (k)
                buf_add(b, ",", 1);
            buf_json_str(b, metadata[k]);
            buf_add(b, ":", 1);
            buf_json_str(b, metadata[k + 1]);
        }
        buf_add(b, "}", 1);
        first = 0;
    }
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if (!first)
            buf_add(b, ",", 1);
        first = 0;
        buf_json_str(b, t[i].name);
        buf_printf(b, ":{\"dtype\":\"%s\",\"shape\":[", dname);
        for (int d = 0; d < t[i].ndim; d++)
            buf_printf(b, "%s%" PRId64, d ? "," : "", t[i].shape[d]);
        uint64_t end = off + (uint64_t)numel[i] * esize;
        buf_printf(b, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", off, end);
        off = end;
    }
    buf_add(b, "}", 1);
    while (b->len % 8)
        buf_add(b, " ", 1);
}

static int write_tensor(int fd, const float *x, size_t n, st_dtype dtype)
{
    if (dtype == ST_F32)
        return fsio_write_all(fd, x, n * sizeof(float));
    unsigned char chunk[1 << 16];
    size_t per = sizeof chunk / 2;
    for (size_t i = 0; i < n; i += per) {
        size_t m = n - i < per ? n - i : per;
        for (size_t j = 0; j < m; j++) {
            uint16_t h = dtype == ST_BF16 ? st_f32_to_bf16(x[i + j]) : st_f32_to_f16(x[i + j]);
            chunk[2 * j] = (unsigned char)(h & 0xff);
            chunk[2 * j + 1] = (unsigned char)(h >> 8);
        }
        if (fsio_write_all(fd, chunk, 2 * m) < 0)
            return -1;
    }
    return 0;
}

/* Writes head, then the tensors' data, to a temporary file beside path,
 * fsyncs it and renames it over path. */
static int write_atomic(const char *path, const st_buf *head, const st_out *t, size_t n,
                        const size_t *numel, st_dtype dtype, alarm_err *e)
{
    char tmp[4096];
    int fd = -1;
    if (head->oom)
        return err_set(e, "%s: out of memory", path);
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp)
        return err_set(e, "%s: path too long", path);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
        return err_set(e, "%s: cannot create a temporary file: %s", path, strerror(errno));
    int rc = 0;
    int ok = fchmod(fd, 0644) == 0 && fsio_write_all(fd, head->p, head->len) == 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = write_tensor(fd, t[i].data, numel[i], dtype) == 0;
    if (!ok || fsync(fd) < 0)
        rc = err_set(e, "%s: write: %s", tmp, strerror(errno));
    if (close(fd) < 0 && rc == 0)
        rc = err_set(e, "%s: close: %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, path) < 0)
        rc = err_set(e, "%s: rename: %s", path, strerror(errno));
    if (rc < 0)
        unlink(tmp);
    else
        fsio_sync_parent(path);
    return rc;
}

static int dtype_info(st_dtype dtype, size_t *esize, const char **dname)
{
    if (dtype != ST_F32 && dtype != ST_BF16 && dtype != ST_F16)
        return -1;
    *esize = dtype == ST_F32 ? 4 : 2;
    *dname = dtype == ST_F32 ? "F32" : dtype == ST_BF16 ? "BF16" : "F16";
    return 0;
}

/* st_write once the request is validated. */
static int write_checked(const char *path, const st_out *tensors, size_t n,
                         const size_t *numel, st_dtype dtype, const char *const *metadata,
                         alarm_err *e)
{
    size_t esize = 4;
    const char *dname = "F32";
    dtype_info(dtype, &esize, &dname);
    st_buf h = {0};
    buf_add(&h, "\0\0\0\0\0\0\0\0", 8); /* the length, filled in below */
    build_header(&h, tensors, n, numel, esize, dname, metadata);
    for (int i = 0; i < 8 && !h.oom; i++)
        h.p[i] = (char)(unsigned char)((uint64_t)(h.len - 8) >> (8 * i));
    int rc = write_atomic(path, &h, tensors, n, numel, dtype, e);
    free(h.p);
    return rc;
}

int st_write(const char *path, const st_out *tensors, size_t n, st_dtype dtype,
             const char *const *metadata, alarm_err *e)
{
    size_t esize;
    const char *dname;
    if (dtype_info(dtype, &esize, &dname) < 0)
        return err_set(e, "%s: can write only F32, BF16 or F16", path);
    size_t *numel = malloc((n + 1) * sizeof *numel);
    if (!numel)
        return err_set(e, "%s: out of memory", path);
    int rc = validate(path, tensors, n, numel, e);
    if (rc == 0)
        rc = write_checked(path, tensors, n, numel, dtype, metadata, e);
    free(numel);
    return rc;
}

typedef struct {
    const char *name;
    size_t shard;
} st_entry;

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const st_entry *)a)->name, ((const st_entry *)b)->name);
}

/* model.safetensors.index.json as transformers writes it (keys sorted). */
static int write_index(const char *dir, const st_out *t, size_t n, const size_t *shard_of,
                       size_t nshards, uint64_t total, alarm_err *e)
{
    st_entry *order = malloc((n + 1) * sizeof *order);
    if (!order)
        return err_set(e, "%s: out of memory", dir);
    for (size_t i = 0; i < n; i++)
        order[i] = (st_entry){t[i].name, shard_of[i]};
    qsort(order, n, sizeof *order, entry_cmp);
    st_buf b = {0};
    buf_printf(&b, "{\n  \"metadata\": {\n    \"total_size\": %" PRIu64 "\n  },\n"
                   "  \"weight_map\": {\n", total);
    for (size_t k = 0; k < n; k++) {
        buf_add(&b, "    ", 4);
        buf_json_str(&b, order[k].name);
        buf_printf(&b, ": \"model-%05zu-of-%05zu.safetensors\"%s\n", order[k].shard + 1,
                   nshards, k + 1 < n ? "," : "");
    }
    buf_add(&b, "  }\n}\n", 6);
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    int rc = write_atomic(path, &b, NULL, 0, NULL, ST_F32, e);
    free(b.p);
    free(order);
    return rc;
}

/* Assigns each tensor its shard the way huggingface_hub's
 * split_torch_state_dict_into_shards does for transformers' save_pretrained
 * (transformers >= 4.42): in table order, the shard being filled is closed
 * when the next tensor would take it past `max`; a tensor larger than `max`
 * gets a shard of its own at once, so it is numbered before the shard being
 * filled. Returns the number of shards (1 for an empty table). */
static size_t plan_shards(const size_t *bytes, size_t n, size_t max, size_t *shard_of)
{
    const size_t open = SIZE_MAX; /* member of the shard being filled */
    size_t nshards = 0, cur = 0, from = 0;
    for (size_t i = 0; i <= n; i++) {
        int last = i == n, big = !last && max && bytes[i] > max;
        if (last || (max && !big && bytes[i] > max - cur)) { /* cur <= max */
            int any = 0;
            for (size_t j = from; j < i; j++)
                if (shard_of[j] == open) {
                    shard_of[j] = nshards;
                    any = 1;
                }
            nshards += (size_t)any;
            cur = 0;
            from = i;
        }
        if (last)
            break;
        if (big) {
            shard_of[i] = nshards++;
        } else {
            shard_of[i] = open;
            cur += bytes[i];
        }
    }
    return nshards ? nshards : 1;
}

/* Writes shard k of nshards: its tensors in table order. */
static int write_shard(const char *dir, const st_out *t, size_t n, const size_t *numel,
                       const size_t *shard_of, size_t k, size_t nshards, st_dtype dtype,
                       const char *const *metadata, alarm_err *e)
{
    st_out *sub = malloc((n + 1) * sizeof *sub);
    size_t *sub_numel = malloc((n + 1) * sizeof *sub_numel), m = 0;
    if (!sub || !sub_numel) {
        free(sub);
        free(sub_numel);
        return err_set(e, "%s: out of memory", dir);
    }
    for (size_t i = 0; i < n; i++)
        if (shard_of[i] == k) {
            sub[m] = t[i];
            sub_numel[m++] = numel[i];
        }
    char path[4200];
    if (nshards == 1)
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
    else
        snprintf(path, sizeof path, "%s/model-%05zu-of-%05zu.safetensors", dir, k + 1, nshards);
    int rc = write_checked(path, sub, m, sub_numel, dtype, metadata, e);
    free(sub);
    free(sub_numel);
    return rc;
}

int st_write_dir(const char *dir, const st_out *tensors, size_t n, st_dtype dtype,
                 size_t max_shard_bytes, const char *const *metadata, alarm_err *e)
{
    size_t esize;
    const char *dname;
    if (dtype_info(dtype, &esize, &dname) < 0)
        return err_set(e, "%s: can write only F32, BF16 or F16", dir);
    size_t *numel = malloc((3 * n + 1) * sizeof *numel), *bytes = numel + n,
           *shard_of = numel + 2 * n;
    if (!numel)
        return err_set(e, "%s: out of memory", dir);
    int rc = validate(dir, tensors, n, numel, e);
    uint64_t total = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        bytes[i] = numel[i] * esize;
        total += bytes[i];
    }
    size_t nshards = rc == 0 ? plan_shards(bytes, n, max_shard_bytes, shard_of) : 0;
    for (size_t k = 0; rc == 0 && k < nshards; k++)
        rc = write_shard(dir, tensors, n, numel, shard_of, k, nshards, dtype, metadata, e);
    if (rc == 0 && nshards > 1)
        rc = write_index(dir, tensors, n, shard_of, nshards, total, e);
    free(numel);
    return rc;
}
