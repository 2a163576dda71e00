/* json_file: a whole JSON file (config.json, adapter_config.json,
 * trainer_state.json, rm.json, ...) read and parsed in one step. */
#ifndef ALARM_JSON_FILE_H
#define ALARM_JSON_FILE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "err.h"

/* The parsed file at path (at most max bytes), or NULL with an error naming
 * the path: unreadable, too large, or "PATH: malformed JSON". What the
 * value must be (an object, its fields) is the caller's to check. */
cJSON *json_file_read(const char *path, size_t max, alarm_err *e);

#endif
