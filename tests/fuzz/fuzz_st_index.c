/* libFuzzer target for sharded checkpoints: the input is the text of
 * model.safetensors.index.json, opened with st_open beside two fixed shards
 * (a.safetensors: "w", "b"; b.safetensors: "c") made once at start-up.
 * Whatever is accepted must hold exactly the shards' tensors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "st.h"

static char dir[64], index_path[128];

static void cleanup(void)
{
    char p[128];
    const char *files[] = {"a.safetensors", "b.safetensors", "model.safetensors.index.json"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "/tmp/fuzz-st-index-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    atexit(cleanup);
    float v[6] = {1, 2, 3, 4, 5, 6};
    st_out a[] = {{"w", v, 2, {2, 2}}, {"b", v + 4, 1, {2}}};
    st_out b[] = {{"c", v, 1, {3}}};
    char p[128];
    alarm_err e;
    snprintf(p, sizeof p, "%s/a.safetensors", dir);
    if (st_write(p, a, 2, ST_F32, NULL, &e) < 0)
        abort();
    snprintf(p, sizeof p, "%s/b.safetensors", dir);
    if (st_write(p, b, 1, ST_BF16, NULL, &e) < 0)
        abort();
    snprintf(index_path, sizeof index_path, "%s/model.safetensors.index.json", dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(index_path, "wb");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    st_set *s;
    alarm_err e;
    if (st_open(&s, dir, &e) < 0)
        return 0;
    size_t n = st_count(s);
    if (n < 1 || n > 3) /* b alone, a alone, or both */
        abort();
    for (size_t i = 0; i < n; i++) {
        float out[4];
        if (st_to_f32(st_at(s, i), out, &e) < 0 || st_find(s, st_at(s, i)->name) != st_at(s, i))
            abort();
    }
    st_close(s);
    return 0;
}
