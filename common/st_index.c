/* st_index: st_open's entry point: a single .safetensors file, a checkpoint
 * directory, or a sharded checkpoint described by model.safetensors.index.json
 * ({"weight_map": {tensor name: shard file}}). Each shard is opened once and
 * every name in the map must be found in the shard it names. */
/* The sanitizer build replaces CFLAGS (and its -D_GNU_SOURCE): ask here. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "st.h"
#include "st_internal.h"
#include "fsio.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ST_INDEX_MAX ((size_t)64 << 20)

static int is_regular(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A shard is named relative to the index's directory and may not leave it. */
static int valid_shard_name(const char *s)
{
    return s[0] && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int str_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Distinct shard names of the map, sorted (so a huge hostile map costs
 * n log n, not n x shards). */
static int list_shards(const cJSON *map, const char ***names, size_t *n, const char *label,
                       alarm_err *e)
{
    const cJSON *it;
    size_t count = (size_t)cJSON_GetArraySize(map), k = 0;
    *n = 0;
    if (count == 0)
        return err_set(e, "%s: weight_map is empty", label);
    if (!(*names = malloc(count * sizeof **names)))
        return err_set(e, "%s: out of memory", label);
    cJSON_ArrayForEach(it, map) {
        if (!cJSON_IsString(it) || !valid_shard_name(it->valuestring))
            return err_set(e, "%s: weight_map: tensor \"%s\": shard must be a file name in "
                              "the same directory", label, it->string);
        (*names)[k++] = it->valuestring;
    }
    qsort(*names, k, sizeof **names, str_ptr_cmp);
    for (size_t i = 0; i < k; i++)
        if (*n == 0 || strcmp((*names)[*n - 1], (*names)[i]) != 0)
            (*names)[(*n)++] = (*names)[i];
    return 0;
}

static int check_map(const st_set *s, const cJSON *map, const char **shards, size_t nshards,
                     const char *label, alarm_err *e)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, map) {
        const st_tensor *t = st_find(s, it->string);
        const char **k = bsearch(&it->valuestring, shards, nshards, sizeof *shards, str_ptr_cmp);
        if (!t || !k || st_set_file_of(s, t) != (size_t)(k - shards))
            return err_set(e, "%s: tensor \"%s\" is mapped to %s but that shard has no such "
                              "tensor", label, it->string, it->valuestring);
    }
    return 0;
}

static int open_index(st_set *s, const char *path, alarm_err *e)
{
    size_t len;
    char *text = fsio_read_file(path, ST_INDEX_MAX, &len, e);
    if (!text)
        return -1;
    int rc = 0;
    const char **shards = NULL;
    size_t nshards = 0;
    cJSON *root = cJSON_ParseWithLength(text, len);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!root)
        rc = err_set(e, "%s: not valid JSON", path);
    else if (!cJSON_IsObject(root) || !cJSON_IsObject(map))
        rc = err_set(e, "%s: expected an object with a \"weight_map\" object", path);
    else
        rc = list_shards(map, &shards, &nshards, path, e);

    /* The directory part of path, to which shard names are relative. */
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path) : 1;
    const char *dir = slash ? path : ".";
    for (size_t k = 0; k < nshards && rc == 0; k++) {
        char p[4096];
        if (snprintf(p, sizeof p, "%.*s/%s", dirlen, dir, shards[k]) >= (int)sizeof p)
            rc = err_set(e, "%s: shard path too long", path);
        else
            rc = st_set_add_file(s, p, e);
    }
    if (rc == 0)
        rc = st_set_finish(s, e);
    if (rc == 0)
        rc = check_map(s, map, shards, nshards, path, e);
    free(shards);
    cJSON_Delete(root);
    free(text);
    return rc;
}

static int has_pickle(const char *dir, size_t n)
{
    char p[4096];
    snprintf(p, sizeof p, "%.*s/pytorch_model.bin", (int)n, dir);
    if (is_regular(p))
        return 1;
    snprintf(p, sizeof p, "%.*s/pytorch_model.bin.index.json", (int)n, dir);
    return is_regular(p);
}

int st_open(st_set **out, const char *path, alarm_err *e)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) < 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    st_set *s = st_set_new();
    if (!s)
        return err_set(e, "%s: out of memory", path);
    int rc;
    if (S_ISDIR(sb.st_mode)) {
        char single[4096], index[4096];
        size_t n = strlen(path);
        while (n > 1 && path[n - 1] == '/')
            n--;
        snprintf(single, sizeof single, "%.*s/model.safetensors", (int)n, path);
        snprintf(index, sizeof index, "%.*s/model.safetensors.index.json", (int)n, path);
        if (is_regular(single))
            rc = st_set_add_file(s, single, e) < 0 ? -1 : st_set_finish(s, e);
        else if (is_regular(index))
            rc = open_index(s, index, e);
        else
            rc = err_set(e, "%s: no model.safetensors or model.safetensors.index.json in "
                            "this directory%s", path, has_pickle(path, n)
                                ? " (pytorch_model.bin is a pickle and is not read: save the "
                                  "model with safe_serialization=True)" : "");
    } else if (ends_with(path, ".json")) {
        rc = open_index(s, path, e);
    } else {
        rc = st_set_add_file(s, path, e) < 0 ? -1 : st_set_finish(s, e);
    }
    if (rc < 0) {
        st_close(s);
        return -1;
    }
    *out = s;
    return 0;
}
