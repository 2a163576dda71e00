/* bpe_text: UTF-8 decoding and the NFC normalizer (Qwen2's tokenizers set
 * one). NFC comes from ICU; we cut the text at ICU's normalization
 * boundaries and normalize each piece on its own, so every output byte maps
 * back to the input piece it came from and offsets stay in input bytes. */
#include "bpe_impl.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

uint32_t bpe_utf8_next(const char *s, size_t *i)
{
    const uint8_t *p = (const uint8_t *)s;
    uint8_t c = p[*i];
    if (c < 0x80)
        return p[(*i)++];
    size_t k = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    uint32_t cp = c & (0x7F >> k);
    for (size_t j = 1; j < k; j++)
        cp = (cp << 6) | (p[*i + j] & 0x3F);
    *i += k;
    return cp;
}

/* NFC of one piece s[0, n) into a malloc'd *out (*out_n bytes). */
static int nfc_piece(char **out, size_t *out_n, const UNormalizer2 *nfc, const char *s, size_t n)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t u16n = 0;
    UChar *src = malloc((n + 1) * sizeof *src), *dst = malloc((4 * n + 16) * sizeof *dst);
    char *res = NULL;
    if (!src || !dst)
        goto done;
    u_strFromUTF8(src, (int32_t)n + 1, &u16n, s, (int32_t)n, &st);
    int32_t dn = unorm2_normalize(nfc, src, u16n, dst, (int32_t)(4 * n + 16), &st);
    int32_t bn = 0;
    if (U_FAILURE(st) || !(res = malloc(4 * (size_t)dn + 4)))
        goto done;
    u_strToUTF8(res, 4 * dn + 4, &bn, dst, dn, &st);
    if (U_FAILURE(st)) {
        free(res);
        res = NULL;
    }
    *out_n = (size_t)bn;
done:
    free(src);
    free(dst);
    *out = res;
    return res ? 0 : -1;
}

static int is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)s[i] >= 0x80)
            return 0;
    return 1;
}

int bpe_nfc(char **norm, size_t *norm_len, size_t **map, const char *text, size_t n,
            alarm_err *e)
{
    *norm = NULL;
    *map = NULL;
    if (is_ascii(text, n))
        return 0;
    UErrorCode st = U_ZERO_ERROR;
    const UNormalizer2 *nfc = unorm2_getNFCInstance(&st);
    if (U_FAILURE(st))
        return err_set(e, "NFC normalizer unavailable: %s", u_errorName(st));
    /* Output can grow (NFC expands a few characters up to 3x); size for it. */
    size_t cap = 3 * n + 16, on = 0, start = 0, i = 0;
    char *out = malloc(cap);
    size_t *m = malloc((cap + 1) * sizeof *m);
    int changed = 0;
    if (!out || !m)
        goto oom;
    while (start < n) {
        size_t end = start;
        bpe_utf8_next(text, &end);
        for (i = end; i < n;) {
            size_t j = i;
            uint32_t cp = bpe_utf8_next(text, &j);
            if (unorm2_hasBoundaryBefore(nfc, (UChar32)cp))
                break;
            i = j;
        }
        end = i < n ? i : n;
        char *piece = NULL;
        size_t pn = 0;
        if (!is_ascii(text + start, end - start)) {
            if (nfc_piece(&piece, &pn, nfc, text + start, end - start) < 0)
                goto oom;
            if (pn == end - start && !memcmp(piece, text + start, pn)) {
                free(piece);
                piece = NULL;
            }
        }
        if (on + (piece ? pn : end - start) > cap) {
            free(piece);
            goto oom; /* cannot happen within NFC's 3x bound */
        }
        if (piece) {
            for (size_t k = 0; k < pn; k++)
                m[on + k] = start; /* a rewritten piece maps to its start */
            memcpy(out + on, piece, pn);
            on += pn;
            changed = 1;
            free(piece);
        } else {
            for (size_t k = start; k < end; k++)
                m[on++] = k, out[on - 1] = text[k];
        }
        start = end;
    }
    m[on] = n;
    if (!changed) {
        free(out);
        free(m);
        return 0;
    }
    *norm = out;
    *norm_len = on;
    *map = m;
    return 0;
oom:
    free(out);
    free(m);
    return err_set(e, "out of memory (NFC)");
}
