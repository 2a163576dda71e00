/* alarm-model bench: tokens/s of a training step (forward + backward +
 * AdamW) and of KV-cache sampling for three model shapes, next to the sgemm
 * rate measured in the same run at the model's matrix shapes. Random weights:
 * speed does not depend on their values. Results on stdout, as a table or as
 * one JSON object (--format json). */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <omp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_measure.h"
#include "model_cmds.h"
#include "opt.h"
#include "out.h"

static void print_text(const bench_shape **sel, int n, const bench_result *r, int threads)
{
    printf("%-6s %12s %12s %12s %10s %6s %10s\n", "config", "train tok/s", "sample b1",
           "sample b8", "sgemm GF/s", "MFU", "peak MB");
    for (int i = 0; i < n; i++)
        printf("%-6s %12.0f %12.0f %12.0f %10.1f %6.3f %10.0f\n", sel[i]->name, r[i].train_tps,
               r[i].sample_b1_tps, r[i].sample_b8_tps, r[i].sgemm_gflops, r[i].mfu,
               r[i].peak_rss_mb);
    const char *env = getenv("OPENBLAS_CORETYPE");
    printf("OpenBLAS core: %s (OPENBLAS_CORETYPE=%s), threads: %d\n", openblas_get_corename(),
           env ? env : "(unset)", threads);
}

static void print_json(const bench_shape **sel, int n, const bench_result *r, int threads)
{
    cJSON *o = cJSON_CreateObject(), *cfgs = cJSON_AddObjectToObject(o, "configs");
    for (int i = 0; i < n; i++) {
        cJSON *c = cJSON_AddObjectToObject(cfgs, sel[i]->name);
        cJSON_AddNumberToObject(c, "train_tokens_per_s", r[i].train_tps);
        cJSON_AddNumberToObject(c, "sample_b1_tokens_per_s", r[i].sample_b1_tps);
        cJSON_AddNumberToObject(c, "sample_b8_tokens_per_s", r[i].sample_b8_tps);
        cJSON_AddNumberToObject(c, "sgemm_gflops", r[i].sgemm_gflops);
        cJSON_AddNumberToObject(c, "mfu", r[i].mfu);
        cJSON_AddNumberToObject(c, "peak_rss_mb", r[i].peak_rss_mb);
        cJSON_AddNumberToObject(c, "params", r[i].params);
        cJSON_AddNumberToObject(c, "train_flops_per_token", r[i].flops_per_token);
    }
    cJSON_AddStringToObject(o, "openblas_coretype", openblas_get_corename());
    cJSON_AddNumberToObject(o, "threads", threads);
    char *txt = cJSON_PrintUnformatted(o);
    puts(txt);
    free(txt);
    cJSON_Delete(o);
}

typedef struct {
    const char *config;
    int json;
} args;

static int parse_format(void *p, const char *v, alarm_err *e)
{
    if (strcmp(v, "json") && strcmp(v, "text"))
        return err_set(e, "--format must be json or text");
    ((args *)p)->json = !strcmp(v, "json");
    return 0;
}

static const opt_def opts[] = {
    {"config", 0, "NAME", "one configuration only: tiny, small or gpt2", .type = OPT_STR,
     .off = offsetof(args, config)},
    {"format", 0, "F", "text (a table) or json (one object)", "text", .type = OPT_CALL,
     .call = parse_format},
    {0},
};

static const tool_spec spec = {
    .name = "alarm-model",
    .cmd = "bench",
    .id = TOOL_MODEL_BENCH,
    .usage = "alarm-model bench [--config tiny|small|gpt2] [--format json] [--threads N]",
    .about = "Times training steps and cached sampling next to the measured sgemm rate.\n",
    .opts = opts,
    .page = "alarm-model(1)",
};

int model_cmd_bench(int argc, char **argv)
{
    args a = {0};
    tool t;
    int status = opt_parse(&t, &spec, &a, argc, argv);
    if (status >= 0)
        return status;
    if (t.nargs > 0)
        return tool_usage(&t, "unexpected argument '%s'", t.args[0]);
    const bench_shape *sel[BENCH_NSHAPES];
    int n = 0;
    for (int i = 0; i < BENCH_NSHAPES; i++)
        if (!a.config || !strcmp(a.config, bench_shapes[i].name))
            sel[n++] = &bench_shapes[i];
    if (!n)
        return tool_usage(&t, "unknown --config '%s' (tiny, small, gpt2)", a.config);
    int threads = t.threads > 0 ? (int)t.threads : omp_get_num_procs();
    bench_result r[BENCH_NSHAPES];
    alarm_err e;
    for (int i = 0; i < n; i++) {
        if (!t.quiet)
            fprintf(stderr, "alarm-model bench: %s...\n", sel[i]->name);
        if (bench_one(sel[i], threads, &r[i], &e)) {
            err_prefix(&e, "%s", sel[i]->name);
            return tool_fail(&t, e.msg);
        }
    }
    if (a.json)
        print_json(sel, n, r, threads);
    else
        print_text(sel, n, r, threads);
    return tool_finish(&t, TOOL_OK);
}
