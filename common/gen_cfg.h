/* gen_cfg: a checkpoint's generation defaults, read as transformers reads
 * them: generation_config.json when the directory has one (temperature,
 * top_k, top_p, do_sample, max_new_tokens, eos_token_id as an id or a list),
 * else only config.json's eos_token_id. Fields a file leaves out keep the
 * defaults the caller set (see alarm-rollout(1) for the tool's). */
#ifndef ALARM_GEN_CFG_H
#define ALARM_GEN_CFG_H

#include "err.h"

enum { GEN_MAX_EOS = 8 };

typedef struct {
    float temperature;
    int top_k;
    float top_p;
    int do_sample;      /* 0: greedy */
    int max_new_tokens;
    int eos[GEN_MAX_EOS]; /* ids that end a response */
    int neos;
    int from_file;      /* 1 when generation_config.json was read */
} gen_cfg;

/* Overlays dir's generation_config.json (or config.json's EOS ids) on g.
 * A malformed file or field is an error naming the file and field. */
int gen_cfg_load(gen_cfg *g, const char *dir, alarm_err *e);

/* 1 when id is one of g's EOS ids. */
int gen_cfg_is_eos(const gen_cfg *g, int id);

#endif
