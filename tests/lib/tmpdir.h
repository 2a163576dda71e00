/* tmpdir: scratch directories and files for tests that touch the file system. */
#ifndef ALARM_TEST_TMPDIR_H
#define ALARM_TEST_TMPDIR_H

#include <stddef.h>

/* Creates a fresh directory under $TMPDIR (or /tmp) into buf; fails the test if it cannot. */
void tmpdir_make(char *buf, size_t n);
/* Removes a directory tree (or a file) without following symlinks; missing is fine. */
void tmpdir_remove(const char *path);
/* Writes len bytes to path (created or truncated); fails the test on error. */
void tmpdir_write(const char *path, const void *data, size_t len);
/* Reads a whole file into a malloc'd buffer (NUL-terminated); NULL if it cannot. */
char *tmpdir_read(const char *path, size_t *len);
/* Number of entries in a directory other than . and .., or -1 if it cannot be read. */
int tmpdir_count(const char *dir);

#endif
