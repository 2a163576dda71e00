/* tst_reader: a tiny F32-only safetensors reader for the transformer tests,
 * so they do not depend on the st_ module (tests of st_ live elsewhere).
 * Also loads a fixture checkpoint directory into a tfm_model. */
#ifndef ALARM_TEST_TST_READER_H
#define ALARM_TEST_TST_READER_H

#include <stdint.h>

#include "tfm.h"
#include "tfm_ckpt.h"

typedef struct tst_file tst_file;

tst_file *tst_open(const char *path); /* NULL when unreadable or malformed */
void tst_close(tst_file *f);
/* The tensor's data (fp32) and shape, or NULL when absent. */
const float *tst_get(tst_file *f, const char *name, int *ndim, int64_t shape[8]);
/* Element count of tensor `name` (0 when absent). */
size_t tst_numel(tst_file *f, const char *name);
tfm_source tst_source(tst_file *f);

/* Builds m from fixture DIR (config.json + model.safetensors) for (B, T). */
int tst_load_model(tfm_model *m, const char *dir, int B, int T, alarm_err *e);

#endif
