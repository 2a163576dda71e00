/* ckpt: writing a checkpoint directory atomically (FORMATS.md section 7).
 * Files are written into a fresh temporary directory beside the final one;
 * ckpt_commit makes them durable and renames the directory into place, so a
 * crash never leaves a half-written checkpoint under the final name. */
#ifndef ALARM_CKPT_H
#define ALARM_CKPT_H

#include "err.h"

typedef struct {
    char final_dir[4096];
    char tmp_dir[4096];
} ckpt_writer;

/* Creates the temporary directory for `final_dir`. */
int ckpt_begin(ckpt_writer *w, const char *final_dir, alarm_err *e);

/* Path of file `name` inside the temporary directory (buf of size n). */
const char *ckpt_path(const ckpt_writer *w, const char *name, char *buf, size_t n);

/* Copies a file (e.g. tokenizer.json) from elsewhere into the checkpoint. */
int ckpt_copy_file(const ckpt_writer *w, const char *src, const char *name, alarm_err *e);

/* fsyncs the files, replaces `final_dir` (an existing checkpoint there is
 * replaced whole), fsyncs the parent. */
int ckpt_commit(ckpt_writer *w, alarm_err *e);

/* Removes the temporary directory and everything in it. */
void ckpt_abort(ckpt_writer *w);

#endif
