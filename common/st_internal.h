/* st_internal: what st.c shares with st_index.c (sharded checkpoints); not
 * part of the library's interface. */
#ifndef ALARM_ST_INTERNAL_H
#define ALARM_ST_INTERNAL_H

#include "st.h"

st_set *st_set_new(void);
/* Maps a .safetensors file, validates it and appends its tensors as the next shard. */
int st_set_add_file(st_set *s, const char *path, alarm_err *e);
/* Builds the name index; fails on a name present twice. Call once, last. */
int st_set_finish(st_set *s, alarm_err *e);
/* Shard number (order of st_set_add_file calls) that holds t. */
size_t st_set_file_of(const st_set *s, const st_tensor *t);

#endif
