/* grow: room in a dynamic array, by doubling, written once. */
#ifndef ALARM_GROW_H
#define ALARM_GROW_H

#include <stddef.h>

#include "err.h"

/* pbuf is the address of an array pointer (T **) of *cap elements of `elem`
 * bytes. Makes *cap >= need, doubling from max(*cap, first); on failure
 * ("out of memory" in e, which may be NULL) the array and *cap are unchanged
 * and -1 is returned. Elements past the old capacity are uninitialised. */
int grow_array(void *pbuf, size_t *cap, size_t need, size_t elem, size_t first, alarm_err *e);

#endif
