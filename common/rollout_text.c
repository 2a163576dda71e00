/* rollout_text: see rollout_text.h. */
#include "rollout_text.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Copies raw[0, n) into out as UTF-8, each bad byte as U+FFFD (3 bytes);
 * a NUL byte counts as bad, since JSON readers built on C strings (the
 * tools' own included) cannot hold U+0000; map[i] is where raw byte i
 * starts in out (map[n] = the end). */
static size_t repair(char *out, const char *raw, size_t n, size_t *map, size_t *replaced)
{
    size_t o = 0, i = 0;
    while (i < n) {
        size_t bad = n;
        if (utf8_valid(raw + i, n - i, &bad))
            bad = n - i;
        const char *nul = memchr(raw + i, 0, bad);
        if (nul)
            bad = (size_t)(nul - (raw + i));
        for (size_t k = 0; k < bad; k++) {
            map[i + k] = o;
            out[o++] = raw[i + k];
        }
        i += bad;
        if (i < n) {
            map[i] = o;
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            (*replaced)++;
        }
    }
    map[n] = o;
    out[o] = 0;
    return o;
}

int rollout_text_make(rollout_text *rt, const bpe *tok, const int32_t *ids, int n, int eos_last,
                      alarm_err *e)
{
    int ntext = eos_last && n > 0 ? n - 1 : n;
    size_t raw_len = 0;
    for (int i = 0; i < ntext; i++) {
        size_t l = 0;
        if (!bpe_id_to_bytes(tok, ids[i], &l))
            return err_set(e, "token %d is not in the tokenizer's vocabulary", (int)ids[i]);
        raw_len += l;
    }
    char *raw = malloc(raw_len + 1), *text = realloc(rt->text, 3 * raw_len + 1);
    size_t *map = malloc((raw_len + 1) * sizeof *map);
    size_t *offs = realloc(rt->offs, (size_t)(n > 0 ? n : 1) * 2 * sizeof *offs);
    if (text)
        rt->text = text;
    if (offs)
        rt->offs = offs;
    if (!raw || !text || !map || !offs) {
        free(raw);
        free(map);
        return err_set(e, "out of memory");
    }
    size_t at = 0;
    for (int i = 0; i < ntext; i++) {
        size_t l;
        const char *b = bpe_id_to_bytes(tok, ids[i], &l);
        memcpy(raw + at, b, l);
        offs[2 * i] = at;
        offs[2 * i + 1] = at += l;
    }
    rt->replaced = 0;
    rt->len = repair(text, raw, raw_len, map, &rt->replaced);
    for (int i = 0; i < ntext; i++) {
        offs[2 * i] = map[offs[2 * i]];
        offs[2 * i + 1] = map[offs[2 * i + 1]];
    }
    if (ntext < n)
        offs[2 * ntext] = offs[2 * ntext + 1] = rt->len;
    free(raw);
    free(map);
    return 0;
}

void rollout_text_free(rollout_text *rt)
{
    free(rt->text);
    free(rt->offs);
    memset(rt, 0, sizeof *rt);
}
