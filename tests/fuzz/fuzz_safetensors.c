/* libFuzzer target for the safetensors header validation (st_open_buffer)
 * and the conversions it guards. The first input byte picks the mode:
 *   even: the rest is a whole file image (length prefix, header, data);
 *   odd:  byte 1 x 16 is the data-block size, the rest is the header text,
 *         and the length prefix is made to fit, so the fuzzer spends its time
 *         on the JSON rather than on guessing a 64-bit length.
 * Whatever is accepted must lie inside the image and convert without fault. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "st.h"

static void exercise(const unsigned char *img, size_t len)
{
    st_set *s;
    alarm_err e;
    if (st_open_buffer(&s, img, len, "fuzz.safetensors", &e) < 0)
        return;
    for (size_t i = 0; i < st_count(s); i++) {
        const st_tensor *t = st_at(s, i);
        if (t->data < img + 8 || t->data + t->nbytes > img + len)
            abort();
        if (st_find(s, t->name) != t)
            abort();
        float *dst = malloc(t->numel * sizeof *dst + 1);
        if (dst) {
            int rc = st_to_f32(t, dst, &e);
            if ((rc == 0) != (t->dtype != ST_OTHER))
                abort();
            free(dst);
        }
    }
    st_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if ((data[0] & 1) == 0) {
        unsigned char *img = malloc(size); /* exact size: ASan catches over-reads */
        if (!img)
            return 0;
        memcpy(img, data + 1, size - 1);
        exercise(img, size - 1);
        free(img);
        return 0;
    }
    if (size < 2)
        return 0;
    size_t hlen = size - 2, dlen = (size_t)data[1] * 16, len = 8 + hlen + dlen;
    unsigned char *img = malloc(len);
    if (!img)
        return 0;
    for (int i = 0; i < 8; i++)
        img[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    memcpy(img + 8, data + 2, hlen);
    for (size_t i = 0; i < dlen; i++)
        img[8 + hlen + i] = (unsigned char)(i * 37);
    exercise(img, len);
    free(img);
    return 0;
}
