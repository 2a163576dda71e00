/* record_ids: the ids met so far (see record.h), an open-addressing table
 * of the ids' own text, so a repeat is named with the place of its first. */
#include "record.h"

#include <stdlib.h>
#include <string.h>

struct record_id_slot {
    char *id;          /* NULL: empty slot */
    size_t len;
    uint64_t hash;
    const char *file;
    long line;
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static struct record_id_slot *find(const record_ids *s, const char *id, size_t len, uint64_t h)
{
    size_t mask = s->cap - 1;
    for (size_t j = h & mask;; j = (j + 1) & mask) {
        struct record_id_slot *x = &s->slots[j];
        if (!x->id || (x->hash == h && x->len == len && !memcmp(x->id, id, len)))
            return x;
    }
}

static int grow(record_ids *s)
{
    size_t cap = s->cap ? 2 * s->cap : 1024;
    record_ids t = {calloc(cap, sizeof *t.slots), s->n, cap};
    if (!t.slots)
        return -1;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].id)
            *find(&t, s->slots[i].id, s->slots[i].len, s->slots[i].hash) = s->slots[i];
    free(s->slots);
    *s = t;
    return 0;
}

int record_ids_add(record_ids *s, const char *noun, const char *id, size_t len,
                   const char *file, long line, alarm_err *e)
{
    if (2 * (s->n + 1) > s->cap && grow(s) < 0)
        return err_set(e, "out of memory");
    uint64_t h = hash_bytes(id, len);
    struct record_id_slot *x = find(s, id, len, h);
    if (x->id)
        return err_set(e, "%s:%ld: duplicate %s \"%.*s\" (first at %s:%ld)", file, line, noun,
                       (int)len, id, x->file, x->line);
    if (!(x->id = malloc(len + 1)))
        return err_set(e, "out of memory");
    memcpy(x->id, id, len);
    x->id[len] = '\0';
    *x = (struct record_id_slot){x->id, len, h, file, line};
    s->n++;
    return 0;
}

void record_ids_free(record_ids *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i].id);
    free(s->slots);
    memset(s, 0, sizeof *s);
}
