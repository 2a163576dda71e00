/* alarm-model merge-lora ADAPTER --out DIR: the base with every adapter
 * folded in (W + alpha/r B A, transposed for GPT-2's Conv1D), written as a
 * full checkpoint through the atomic writer, tokenizer files included
 * (the adapter directory's, else the base's); heads beside the adapter
 * (a v_head, a reward model's score) go into it too, and a reward model's
 * rm.json with them, so alarm-score rm: reads the merged one alike. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "model_cmds.h"
#include "opt.h"
#include "out.h"
#include "tfm_ckpt.h"
#include "tfm_lora.h"
#include "tfm_lora_ckpt.h"

typedef struct {
    const char *out;
} merge_args;

#define AT(f) offsetof(merge_args, f)
static const opt_def opts[] = {
    {"out", 'o', "DIR", "the merged checkpoint to write", .type = OPT_STR, .off = AT(out)},
    {0},
};

static const tool_spec spec = {
    .name = "alarm-model",
    .cmd = "merge-lora",
    .id = TOOL_MODEL_MERGE,
    .usage = "alarm-model merge-lora ADAPTER --out DIR",
    .about = "Folds a LoRA adapter directory into its base and writes the merged checkpoint.\n",
    .opts = opts,
    .page = "alarm-model(1)",
};

/* The adapter directory's rm.json (alarm-rm's, alarm-formats(5) section 7), when it has one. */
static int copy_rm_json(const ckpt_writer *w, void *ctx, alarm_err *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/rm.json", (const char *)ctx);
    return access(path, F_OK) == 0 ? ckpt_copy_file(w, path, "rm.json", e) : 0;
}

int model_cmd_merge_lora(int argc, char **argv)
{
    tool t;
    merge_args a = {0};
    int status = opt_parse(&t, &spec, &a, argc, argv);
    if (status >= 0)
        return status;
    if (t.nargs != 1 || !a.out)
        return tool_usage(&t, "merge-lora takes one adapter directory and --out DIR");
    const char *dir = t.args[0];
    if (!tfm_lora_is_adapter_dir(dir))
        return tool_usage(&t, "not an adapter directory (no adapter_config.json)");
    alarm_err e;
    tfm_model m;
    if (tfm_load(&m, dir, 1, 1, 0, &e) < 0)
        return tool_fail(&t, e.msg);
    char tok[4096];
    snprintf(tok, sizeof tok, "%s/tokenizer.json", dir);
    const char *tokdir = access(tok, R_OK) == 0 ? dir : m.lora.base;
    tfm_save_opts so = {.dtype = m.cfg.dtype, .extra = copy_rm_json, .extra_ctx = (void *)dir};
    tfm_lora_merge(&m);
    status = tfm_save_as(&m, a.out, tokdir, &so, &e) < 0 ? tool_fail(&t, e.msg) : TOOL_OK;
    tfm_free(&m);
    return tool_finish(&t, status);
}
