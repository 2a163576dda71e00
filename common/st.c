/* st: reading safetensors files and sharded checkpoints (see st.h).
 * Every header is validated completely (JSON shape, dtypes, sizes, offsets
 * inside the data block, no overlaps, no duplicate names) before st_open
 * returns, so later code can trust st_tensor.data/nbytes. Files are mmapped
 * read-only; nothing beyond the headers is touched here. */
/* The sanitizer build replaces CFLAGS (and its -D_GNU_SOURCE): ask here. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "grow.h"
#include "st.h"
#include "st_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_HEADER_MAX ((uint64_t)100 << 20) /* the reference implementation's limit */
#define ST_EXACT_MAX 9007199254740992.0 /* 2^53: larger JSON numbers are not exact */

typedef struct {
    char *label;                /* path (or caller's label) used in messages */
    void *map;                  /* mmap base; NULL for a caller's buffer or an empty file */
    size_t size;
} st_file;

typedef struct {
    char *key, *value;
} st_kv;

typedef struct {
    const char *name;
    size_t idx;
} st_name_ref;

struct st_set {
    st_file *files;
    size_t nfiles;
    st_tensor *t;
    size_t *file_of;            /* (n) index into files of each tensor */
    size_t n, cap;
    st_name_ref *by_name;       /* (n) sorted by name, for st_find */
    st_kv *meta;
    size_t nmeta, meta_cap;
};

static const struct {
    const char *name;
    st_dtype dtype;
    size_t size;
} st_dtypes[] = {
    {"F32", ST_F32, 4},   {"F16", ST_F16, 2},   {"BF16", ST_BF16, 2},
    {"F64", ST_OTHER, 8}, {"I64", ST_OTHER, 8}, {"U64", ST_OTHER, 8},
    {"I32", ST_OTHER, 4}, {"U32", ST_OTHER, 4}, {"I16", ST_OTHER, 2},
    {"U16", ST_OTHER, 2}, {"I8", ST_OTHER, 1},  {"U8", ST_OTHER, 1},
    {"BOOL", ST_OTHER, 1}, {"F8_E4M3", ST_OTHER, 1}, {"F8_E5M2", ST_OTHER, 1},
};

static int dtype_lookup(const char *name, st_dtype *dt, size_t *size)
{
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(name, st_dtypes[i].name) == 0) {
            *dt = st_dtypes[i].dtype;
            *size = st_dtypes[i].size;
            return 0;
        }
    return -1;
}

/* A JSON number that is a non-negative integer we can hold exactly. */
static int json_uint(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!(d >= 0.0 && d <= ST_EXACT_MAX) || d != (double)(uint64_t)d)
        return -1;
    *out = (uint64_t)d;
    return 0;
}

/* Appended, not deduplicated (that would be quadratic on a hostile header):
 * st_metadata returns the first, so the first file and first key win. */
static int add_meta(st_set *s, const char *key, const char *value)
{
    if (grow_array(&s->meta, &s->meta_cap, s->nmeta + 1, sizeof *s->meta, 8, NULL) < 0)
        return -1;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return -1;
    }
    s->meta[s->nmeta].key = k;
    s->meta[s->nmeta].value = v;
    s->nmeta++;
    return 0;
}

static int parse_metadata(st_set *s, const cJSON *m, const char *label, alarm_err *e)
{
    if (!cJSON_IsObject(m))
        return err_set(e, "%s: __metadata__ is not an object", label);
    const cJSON *kv;
    cJSON_ArrayForEach(kv, m) {
        if (!cJSON_IsString(kv))
            return err_set(e, "%s: __metadata__: value of \"%s\" is not a string", label,
                           kv->string);
        if (add_meta(s, kv->string, kv->valuestring) < 0)
            return err_set(e, "%s: out of memory", label);
    }
    return 0;
}

static int parse_shape(st_tensor *t, const cJSON *shape, const char *label, alarm_err *e)
{
    if (!cJSON_IsArray(shape))
        return err_set(e, "%s: tensor \"%s\": shape is missing or not an array", label, t->name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > ST_MAX_DIMS)
        return err_set(e, "%s: tensor \"%s\": shape has %d dimensions, at most %d are supported",
                       label, t->name, ndim, ST_MAX_DIMS);
    size_t numel = 1;
    const cJSON *d;
    int i = 0;
    cJSON_ArrayForEach(d, shape) {
        uint64_t v;
        if (json_uint(d, &v) < 0)
            return err_set(e, "%s: tensor \"%s\": shape[%d] is not a non-negative integer", label,
                           t->name, i);
        if (__builtin_mul_overflow(numel, (size_t)v, &numel))
            return err_set(e, "%s: tensor \"%s\": shape overflows the element count", label,
                           t->name);
        t->shape[i++] = (int64_t)v;
    }
    t->ndim = ndim;
    t->numel = numel;
    return 0;
}

/* Fills t (whose name is set) from its header entry; data is the file's data block. */
static int parse_entry(st_tensor *t, const cJSON *item, const unsigned char *data,
                       size_t data_len, const st_file *f, alarm_err *e)
{
    const char *label = f->label;
    if (!cJSON_IsObject(item))
        return err_set(e, "%s: tensor \"%s\": expected an object with dtype, shape and "
                          "data_offsets", label, t->name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    if (!cJSON_IsString(dt))
        return err_set(e, "%s: tensor \"%s\": dtype is missing or not a string", label, t->name);
    size_t dsize;
    if (strlen(dt->valuestring) >= sizeof t->dtype_name ||
        dtype_lookup(dt->valuestring, &t->dtype, &dsize) < 0)
        return err_set(e, "%s: tensor \"%s\": unknown dtype \"%.32s\"", label, t->name,
                       dt->valuestring);
    strcpy(t->dtype_name, dt->valuestring);
    if (parse_shape(t, cJSON_GetObjectItemCaseSensitive(item, "shape"), label, e) < 0)
        return -1;
    if (__builtin_mul_overflow(t->numel, dsize, &t->nbytes))
        return err_set(e, "%s: tensor \"%s\": size overflows", label, t->name);

    const cJSON *off = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    uint64_t b, en;
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 ||
        json_uint(cJSON_GetArrayItem(off, 0), &b) < 0 ||
        json_uint(cJSON_GetArrayItem(off, 1), &en) < 0)
        return err_set(e, "%s: tensor \"%s\": data_offsets must be [begin, end], two "
                          "non-negative integers", label, t->name);
    if (b > en)
        return err_set(e, "%s: tensor \"%s\": data_offsets [%llu, %llu] end before they begin",
                       label, t->name, (unsigned long long)b, (unsigned long long)en);
    if (en > data_len)
        return err_set(e, "%s: tensor \"%s\": data_offsets [%llu, %llu] past the end of the "
                          "file (%zu bytes, data block of %zu)", label, t->name,
                       (unsigned long long)b, (unsigned long long)en, f->size, data_len);
    if (en - b != t->nbytes)
        return err_set(e, "%s: tensor \"%s\": data_offsets [%llu, %llu] hold %llu bytes but "
                          "%s x %zu elements need %zu", label, t->name, (unsigned long long)b,
                       (unsigned long long)en, (unsigned long long)(en - b), t->dtype_name,
                       t->numel, t->nbytes);
    t->data = data + b;
    return 0;
}

static int grow_tensors(st_set *s)
{
    size_t ct = s->cap, cf = s->cap; /* two arrays, one capacity */
    if (grow_array(&s->t, &ct, s->n + 1, sizeof *s->t, 64, NULL) < 0 ||
        grow_array(&s->file_of, &cf, s->n + 1, sizeof *s->file_of, 64, NULL) < 0)
        return -1;
    s->cap = cf;
    return 0;
}

typedef struct {
    const unsigned char *begin;
    size_t nbytes, idx;
} st_span;

static int span_cmp(const void *a, const void *b)
{
    const st_span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Tensors [first, s->n) come from one file: no two non-empty ones may share a byte. */
static int check_overlaps(const st_set *s, size_t first, const char *label, alarm_err *e)
{
    size_t m = 0;
    st_span *sp = malloc((s->n - first + 1) * sizeof *sp);
    if (!sp)
        return err_set(e, "%s: out of memory", label);
    for (size_t i = first; i < s->n; i++)
        if (s->t[i].nbytes)
            sp[m++] = (st_span){s->t[i].data, s->t[i].nbytes, i};
    qsort(sp, m, sizeof *sp, span_cmp);
    int rc = 0;
    for (size_t i = 1; i < m && rc == 0; i++)
        if (sp[i - 1].begin + sp[i - 1].nbytes > sp[i].begin)
            rc = err_set(e, "%s: tensors \"%s\" and \"%s\" overlap in the data block", label,
                         s->t[sp[i - 1].idx].name, s->t[sp[i].idx].name);
    free(sp);
    return rc;
}

static int parse_entries(st_set *s, size_t fidx, const cJSON *root, const unsigned char *data,
                         size_t data_len, alarm_err *e)
{
    const st_file *f = &s->files[fidx];
    size_t first = s->n;
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        if (strcmp(item->string, "__metadata__") == 0) {
            if (parse_metadata(s, item, f->label, e) < 0)
                return -1;
            continue;
        }
        if (item->string[0] == '\0')
            return err_set(e, "%s: a tensor has an empty name", f->label);
        if (grow_tensors(s) < 0)
            return err_set(e, "%s: out of memory", f->label);
        st_tensor *t = &s->t[s->n];
        memset(t, 0, sizeof *t);
        if (!(t->name = strdup(item->string)))
            return err_set(e, "%s: out of memory", f->label);
        s->file_of[s->n++] = fidx;
        if (parse_entry(t, item, data, data_len, f, e) < 0)
            return -1;
    }
    return check_overlaps(s, first, f->label, e);
}

/* JSON forbids raw control bytes, but cJSON takes them inside strings, and it
 * cuts a string at a NUL or a \u0000: either would let two different names in
 * the file become one name here. Refuse both before parsing. */
static int check_header_bytes(const char *hdr, size_t n, const char *label, alarm_err *e)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)hdr[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return err_set(e, "%s: header has a control byte 0x%02x at byte %zu", label, c, i);
        if (c == '\\' && i + 1 < n) {
            if (n - i >= 6 && memcmp(hdr + i + 1, "u0000", 5) == 0)
                return err_set(e, "%s: header has a \\u0000 escape at byte %zu (names and "
                                  "values cannot hold NUL)", label, i);
            i++; /* skip the escaped character: an escaped backslash then u0000 is text */
        }
    }
    return 0;
}

/* Validates the image of files[fidx] and appends its tensors to the set. */
static int parse_file(st_set *s, size_t fidx, const unsigned char *base, alarm_err *e)
{
    const st_file *f = &s->files[fidx];
    size_t size = f->size;
    if (size < 8)
        return err_set(e, "%s: truncated: %zu bytes, a safetensors file starts with an 8-byte "
                          "header length", f->label, size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | base[i];
    if (hlen > size - 8)
        return err_set(e, "%s: header length %llu past the end of the file (%zu bytes)",
                       f->label, (unsigned long long)hlen, size);
    if (hlen > ST_HEADER_MAX)
        return err_set(e, "%s: header length %llu above the limit of %llu bytes", f->label,
                       (unsigned long long)hlen, (unsigned long long)ST_HEADER_MAX);
    if (hlen < 2)
        return err_set(e, "%s: header of %llu bytes cannot hold a JSON object", f->label,
                       (unsigned long long)hlen);

    /* cJSON wants a terminated string; the mapping has none. */
    char *hdr = malloc(hlen + 1);
    if (!hdr)
        return err_set(e, "%s: out of memory", f->label);
    memcpy(hdr, base + 8, hlen);
    hdr[hlen] = '\0';
    const char *end = NULL;
    if (check_header_bytes(hdr, hlen, f->label, e) < 0) {
        free(hdr);
        return -1;
    }
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, hlen, &end, 0);
    int rc = 0;
    if (!root) {
        size_t at = end && end >= hdr && end <= hdr + hlen ? (size_t)(end - hdr) : 0;
        rc = err_set(e, "%s: header is not valid JSON (near byte %zu of %llu)", f->label, at,
                     (unsigned long long)hlen);
    } else if (!cJSON_IsObject(root)) {
        rc = err_set(e, "%s: header is not a JSON object", f->label);
    } else {
        for (const char *p = end; p < hdr + hlen && rc == 0; p++)
            if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
                rc = err_set(e, "%s: header has bytes after its JSON object (at byte %zu)",
                             f->label, (size_t)(p - hdr));
        if (rc == 0)
            rc = parse_entries(s, fidx, root, base + 8 + hlen, size - 8 - hlen, e);
    }
    cJSON_Delete(root);
    free(hdr);
    return rc;
}

static int add_file(st_set *s, const char *label, void *map, size_t size)
{
    st_file *f = realloc(s->files, (s->nfiles + 1) * sizeof *f);
    if (!f)
        return -1;
    s->files = f;
    char *l = strdup(label);
    if (!l)
        return -1;
    s->files[s->nfiles++] = (st_file){l, map, size};
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(((const st_name_ref *)a)->name, ((const st_name_ref *)b)->name);
}

/* Builds the name index; a name found twice (in one file or two shards) is an error. */
static int index_names(st_set *s, alarm_err *e)
{
    s->by_name = malloc((s->n + 1) * sizeof *s->by_name);
    if (!s->by_name)
        return err_set(e, "out of memory");
    for (size_t i = 0; i < s->n; i++)
        s->by_name[i] = (st_name_ref){s->t[i].name, i};
    qsort(s->by_name, s->n, sizeof *s->by_name, name_cmp);
    for (size_t i = 1; i < s->n; i++)
        if (strcmp(s->by_name[i - 1].name, s->by_name[i].name) == 0) {
            size_t a = s->by_name[i - 1].idx, b = s->by_name[i].idx;
            if (a > b) {
                size_t tmp = a;
                a = b;
                b = tmp;
            }
            if (s->file_of[a] == s->file_of[b])
                return err_set(e, "%s: tensor \"%s\" appears twice",
                               s->files[s->file_of[a]].label, s->t[a].name);
            return err_set(e, "tensor \"%s\" appears twice (in %s and %s)", s->t[a].name,
                           s->files[s->file_of[a]].label, s->files[s->file_of[b]].label);
        }
    return 0;
}

void st_close(st_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nfiles; i++) {
        if (s->files[i].map)
            munmap(s->files[i].map, s->files[i].size);
        free(s->files[i].label);
    }
    for (size_t i = 0; i < s->n; i++)
        free((char *)s->t[i].name);
    for (size_t i = 0; i < s->nmeta; i++) {
        free(s->meta[i].key);
        free(s->meta[i].value);
    }
    free(s->files);
    free(s->t);
    free(s->file_of);
    free(s->by_name);
    free(s->meta);
    free(s);
}

int st_open_buffer(st_set **out, const void *buf, size_t len, const char *label, alarm_err *e)
{
    *out = NULL;
    st_set *s = calloc(1, sizeof *s);
    if (!s || add_file(s, label, NULL, len) < 0) {
        st_close(s);
        return err_set(e, "%s: out of memory", label);
    }
    if (parse_file(s, 0, buf, e) < 0 || index_names(s, e) < 0) {
        st_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* Maps `path` read-only and parses it as files[s->nfiles]. */
int st_set_add_file(st_set *s, const char *path, alarm_err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return err_set(e, "%s: not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    void *map = NULL;
    if (size > 0) {
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int en = errno;
            close(fd);
            return err_set(e, "%s: mmap: %s", path, strerror(en));
        }
    }
    close(fd);
    if (add_file(s, path, map, size) < 0) {
        if (map)
            munmap(map, size);
        return err_set(e, "%s: out of memory", path);
    }
    return parse_file(s, s->nfiles - 1, map, e);
}

size_t st_count(const st_set *s)
{
    return s->n;
}

const st_tensor *st_at(const st_set *s, size_t i)
{
    return i < s->n ? &s->t[i] : NULL;
}

const st_tensor *st_find(const st_set *s, const char *name)
{
    st_name_ref key = {name, 0};
    const st_name_ref *r = bsearch(&key, s->by_name, s->n, sizeof key, name_cmp);
    return r ? &s->t[r->idx] : NULL;
}

const char *st_metadata(const st_set *s, const char *key)
{
    for (size_t i = 0; i < s->nmeta; i++)
        if (strcmp(s->meta[i].key, key) == 0)
            return s->meta[i].value;
    return NULL;
}

/* Shard number of a tensor (for the index check in st_index.c). */
size_t st_set_file_of(const st_set *s, const st_tensor *t)
{
    return s->file_of[t - s->t];
}

st_set *st_set_new(void)
{
    return calloc(1, sizeof(st_set));
}

int st_set_finish(st_set *s, alarm_err *e)
{
    return index_names(s, e);
}
