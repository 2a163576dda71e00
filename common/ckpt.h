/* ckpt: writing a checkpoint directory atomically (alarm-formats(5) section 7).
 * Files are written into a fresh temporary directory beside the final one
 * (FINAL.ckpt-tmp-XXXXXX); ckpt_commit makes them durable and renames the
 * directory into place, so a crash never leaves a half-written checkpoint
 * under the final name.
 *
 * Guarantee, for a crash (or power loss) at any moment:
 *  - no checkpoint at FINAL before: FINAL is either absent or the complete
 *    new checkpoint;
 *  - a checkpoint at FINAL before: FINAL holds the complete old or the
 *    complete new one. Linux swaps them with renameat2(RENAME_EXCHANGE);
 *    on a file system that cannot, the old one is renamed to FINAL.ckpt-old
 *    first, and if the crash came right then, the next ckpt_begin (or
 *    ckpt_recover) on FINAL renames it back.
 * What a crash can leave beside FINAL: a FINAL.ckpt-tmp-XXXXXX directory
 * (never read; safe to delete). An existing FINAL that is neither empty nor
 * a checkpoint (no config.json, model.safetensors or its index) is never
 * replaced: ckpt_begin refuses it. One writer per FINAL at a time: two
 * processes committing the same FINAL at once get one of the two whole
 * checkpoints with RENAME_EXCHANGE, but may both fail on the fallback path. */
#ifndef ALARM_CKPT_H
#define ALARM_CKPT_H

#include <stddef.h>

#include "err.h"

typedef struct {
    char final_dir[4096];
    char tmp_dir[4096];         /* empty when nothing is being written */
} ckpt_writer;

/* Creates the temporary directory for `final_dir` (after ckpt_recover),
 * and the directories above final_dir that are missing. */
int ckpt_begin(ckpt_writer *w, const char *final_dir, alarm_err *e);

/* Path of file `name` inside the temporary directory (buf of size n);
 * NULL if it does not fit. */
const char *ckpt_path(const ckpt_writer *w, const char *name, char *buf, size_t n);

/* Copies a file (e.g. tokenizer.json) from elsewhere into the checkpoint as
 * `name` (a plain file name, no '/'). */
int ckpt_copy_file(const ckpt_writer *w, const char *src, const char *name, alarm_err *e);

/* Writes `len` bytes as file `name` of the checkpoint (e.g. config.json). */
int ckpt_write_file(const ckpt_writer *w, const char *name, const void *data, size_t len,
                    alarm_err *e);

/* fsyncs the files, replaces `final_dir` (an existing checkpoint there is
 * replaced whole), fsyncs the parent. On failure the old checkpoint is
 * untouched and the temporary directory is kept: call ckpt_abort. */
int ckpt_commit(ckpt_writer *w, alarm_err *e);

/* Removes the temporary directory and everything in it (idempotent). */
void ckpt_abort(ckpt_writer *w);

/* Completes an interrupted replacement of `final_dir`: restores
 * FINAL.ckpt-old when FINAL is missing, removes it when FINAL exists. */
int ckpt_recover(const char *final_dir, alarm_err *e);

/* Tests only: 1 makes ckpt_commit use the two-rename path instead of
 * RENAME_EXCHANGE. */
void ckpt_debug_no_exchange(int on);

#endif
