/* fsio: the few file-system steps that durable writes share (safetensors
 * files, checkpoint directories): writing a whole buffer through short
 * writes and EINTR, and fsync of a path's parent directory so that a rename
 * into it survives a crash. */
#ifndef ALARM_FSIO_H
#define ALARM_FSIO_H

#include <stddef.h>

/* Writes all n bytes to fd. 0, or -1 with errno set. */
int fsio_write_all(int fd, const void *p, size_t n);

/* fsyncs the directory holding `path`. Best effort: a file system that
 * cannot fsync a directory makes it a no-op. */
void fsio_sync_parent(const char *path);

#endif
