/* fsio: the few file-system steps the modules share: reading a whole
 * (small) file, and for durable writes (safetensors files, checkpoint
 * directories) writing a whole buffer through short writes and EINTR, and
 * fsync of a path's parent directory so that a rename into it survives a
 * crash. */
#ifndef ALARM_FSIO_H
#define ALARM_FSIO_H

#include <stddef.h>

#include "err.h"

/* The whole file at path, malloc'd and NUL-terminated (*len bytes before
 * the NUL), or NULL with an error naming the path. A file of more than max
 * bytes is an error too ("larger than N MB"). */
char *fsio_read_file(const char *path, size_t max, size_t *len, alarm_err *e);

/* Writes all n bytes to fd. 0, or -1 with errno set. */
int fsio_write_all(int fd, const void *p, size_t n);

/* fsyncs the directory holding `path`. Best effort: a file system that
 * cannot fsync a directory makes it a no-op. */
void fsio_sync_parent(const char *path);

/* Writes the NUL-terminated text to path atomically: a temporary file in
 * the same directory, fsync, mode 0644, rename over path. 0 or -1. */
int fsio_write_atomic(const char *path, const char *text, alarm_err *e);

#endif
