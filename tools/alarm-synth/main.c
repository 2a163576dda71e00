/* alarm-synth: the embedded world of the demo. One mode per invocation:
 * prompts, demos, prefs and spans write records (alarm-formats(5) section 1)
 * from the world the seed makes; score and rewards judge responses against
 * the truth their records' meta carries. See alarm-synth(1). */
#include <stddef.h>
#include <string.h>

#include "opt.h"
#include "out.h"
#include "synth_cli.h"

static int parse_split(void *p, const char *v, alarm_err *e)
{
    if (strcmp(v, "train") && strcmp(v, "test"))
        return err_set(e, "--split: expected train or test, not '%s'", v);
    ((synth_args *)p)->split = !strcmp(v, "test");
    return 0;
}

#define AT(f) offsetof(synth_args, f)
#define RATE(name, field, dflt, help) \
    {name, 0, "P", help, dflt, .type = OPT_DOUBLE, .off = AT(field), .fmin = 0, .fmax = 1}
static const opt_def opts[] = {
    {"count", 'n', "N", "records to write", "100", .type = OPT_LONG, .off = AT(count),
     .min = 0, .max = 100000000},
    {"split", 0, "S", "prompts: train, or test (held out)", "train", .type = OPT_CALL,
     .call = parse_split},
    {"bands", 0, "N", "bands in the world (each with its founder)", "48", .type = OPT_INT,
     .off = AT(world.n_bands), .min = 4, .max = 625},
    {"twin-frac", 0, "F", "fraction of bands sharing a name (ambiguous questions)", "0.2",
     .type = OPT_DOUBLE, .off = AT(world.twin_frac), .fmin = 0, .fmax = 1},
    {"test-frac", 0, "F", "fraction of names only test prompts ask about;\n"
     "0: test prompts are fresh prompts about the same entities", "0", .type = OPT_DOUBLE,
     .off = AT(world.test_frac), .fmin = 0, .fmax = 0.9},
    {"passages", 0, "N", "passages per prompt", "2", .type = OPT_INT, .off = AT(world.n_passages),
     .min = 2, .max = SYNTH_MAX_PASSAGES},
    RATE("p-wrong", rates.wrong, "0.1", "demos: a fact sentence gets another entity's value"),
    RATE("p-missing", rates.miss, "0.1", "demos: a main-answer sentence is dropped"),
    RATE("p-irrelevant", rates.irrel, "0.15", "demos: a sentence about another entity is added"),
    RATE("p-repeat", rates.rep, "0.08", "demos: a sentence is repeated"),
    RATE("p-unsupported", rates.unsup, "0.05", "demos: a true fact no passage states is added"),
    {"fact-weight", 0, "W", "prefs: the annotator's weight of factuality", "0.5",
     .type = OPT_DOUBLE, .off = AT(annot.fact_w), .fmin = 0, .fmax = 100},
    {"temperature", 0, "T", "prefs: P(a over b) = sigmoid(diff / T)", "0.05", .type = OPT_DOUBLE,
     .off = AT(annot.temp), .fmin = 1e-6, .fmax = 100},
    RATE("flip", annot.flip, "0.05", "prefs: labels flipped at random"),
    {"tie", 0, "M", "prefs: pairs whose scores differ by less are skipped", "0.04",
     .type = OPT_DOUBLE, .off = AT(annot.tie), .fmin = 0, .fmax = 100},
    {"aspect", 0, "NAME", "score: the aspect (quality); rewards: repeatable (all four);\n"
     "spans: factuality or relevance", .type = OPT_LIST, .off = AT(aspects)},
    {0},
};

static const tool_spec spec = {
    .name = "alarm-synth",
    .id = TOOL_SYNTH,
    .usage = "alarm-synth prompts|demos|prefs|spans [--count N] [--split train|test] [OPTION]...\n"
             "       alarm-synth score|rewards [--aspect NAME]... [FILE...]",
    .about = "Modes:\n"
             "  prompts   prompt records with the gold answer as reference\n"
             "  demos     demonstrations: gold answers with faults injected\n"
             "  prefs     preference pairs labelled by the noisy annotator\n"
             "  spans     factuality or relevance labels per sentence\n"
             "  score     a cmd: scorer: one {\"value\", \"spans\"} per record read\n"
             "  rewards   the records with rewards.NAME added\n",
    .opts = opts,
    .page = "alarm-synth(1)",
};

static const char *const modes[] = {"prompts", "demos", "prefs", "spans", "score", "rewards"};
enum { NMODES = sizeof modes / sizeof modes[0] };

static int run(tool *t, synth_args *a, int mode)
{
    if (mode >= 4)
        return synth_score(t, a, mode == 5);
    if (t->nargs)
        return tool_usage(t, "%s reads no files", modes[mode]);
    if (mode == 3 && (a->aspects.n > 1 || (a->aspects.n && strcmp(a->aspects.v[0], "factuality") &&
                                            strcmp(a->aspects.v[0], "relevance"))))
        return tool_usage(t, "spans: --aspect is factuality or relevance");
    a->world.seed = t->seed;
    synth_world w;
    alarm_err e = {0};
    if (synth_world_build(&w, &a->world, &e) < 0)
        return tool_fail(t, e.msg);
    int status = synth_gen(t, a, &w, mode);
    synth_world_free(&w);
    return status;
}

int main(int argc, char **argv)
{
    tool t;
    synth_args a = {.world = {.n_bands = 48, .twin_frac = 0.2, .n_passages = 2},
                    .count = 100,
                    .rates = {.wrong = 0.1, .miss = 0.1, .irrel = 0.15, .rep = 0.08, .unsup = 0.05},
                    .annot = {.fact_w = 0.5, .temp = 0.05, .flip = 0.05, .tie = 0.04}};
    tool_init();
    int status = opt_parse(&t, &spec, &a, argc, argv), mode = -1;
    if (status < 0 && t.nargs == 0)
        status = tool_usage(&t, "missing mode");
    for (int i = 0; status < 0 && i < NMODES; i++)
        if (!strcmp(t.args[0], modes[i]))
            mode = i;
    if (status < 0 && mode < 0)
        status = tool_usage(&t, "unknown mode '%s'", t.args[0]);
    if (status < 0) {
        t.args++, t.nargs--;
        status = run(&t, &a, mode);
    }
    opt_list_free(&a.aspects);
    return tool_finish(&t, status);
}
