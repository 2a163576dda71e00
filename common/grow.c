/* grow: the capacity-doubling realloc dynamic arrays share (see grow.h).
 * The array pointer travels as bytes (memcpy) so any T ** can be passed. */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int grow_array(void *pbuf, size_t *cap, size_t need, size_t elem, size_t first, alarm_err *e)
{
    void *buf;
    memcpy(&buf, pbuf, sizeof buf);
    if (need <= *cap && (buf || need == 0))
        return 0;
    size_t c = *cap > first ? *cap : first;
    c = c ? c : 1;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return err_set(e, "out of memory");
        c *= 2;
    }
    if (elem && c > SIZE_MAX / elem)
        return err_set(e, "out of memory");
    void *p = realloc(buf, c * elem);
    if (!p)
        return err_set(e, "out of memory");
    memcpy(pbuf, &p, sizeof p);
    *cap = c;
    return 0;
}
