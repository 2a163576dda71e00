/* What alarm-synth's modes share: the parsed options and the world. */
#ifndef ALARM_SYNTH_CLI_H
#define ALARM_SYNTH_CLI_H

#include "opt.h"
#include "synth.h"

typedef struct {
    synth_opts world;
    long count;
    int split; /* prompts: 0 train, 1 test */
    synth_rates rates;
    synth_annotator annot;
    opt_list aspects;
} synth_args;

/* The kinds of generated records, each from item streams of its own. */
enum { STREAM_PROMPTS, STREAM_DEMOS, STREAM_PREFS, STREAM_SPANS };

int synth_gen(const tool *t, const synth_args *a, const synth_world *w, int mode);
int synth_score(const tool *t, const synth_args *a, int add);

#endif
