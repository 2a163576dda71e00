/* json_file: see json_file.h. */
#include "json_file.h"

#include <stdlib.h>

#include "fsio.h"

cJSON *json_file_read(const char *path, size_t max, alarm_err *e)
{
    size_t len;
    char *text = fsio_read_file(path, max, &len, e);
    if (!text)
        return NULL;
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    if (!o)
        err_set(e, "%s: malformed JSON", path);
    return o;
}
