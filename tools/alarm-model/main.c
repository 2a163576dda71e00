/* alarm-model: inspect and exercise the model runtime: checkpoint info,
 * tokenization, teacher-forced log-probs, the runtime benchmark and
 * merging LoRA adapters.
 * This file only dispatches, through a table as git's commands; each
 * subcommand lives in its own file and parses its own options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_cmds.h"
#include "opt.h"
#include "out.h"

static const char usage[] =
    "alarm-model info DIR\n"
    "       alarm-model tokenize --tokenizer FILE|DIR [--add-special] [FILE...]\n"
    "       alarm-model train-tokenizer --vocab-size N --out FILE [FILE...]\n"
    "       alarm-model logprobs --model DIR [FILE...]\n"
    "       alarm-model bench [--config tiny|small|gpt2] [--format json]\n"
    "       alarm-model merge-lora ADAPTER --out DIR";

/* A subcommand whose file is not in this tree links to this fallback. */
static int missing(const char *name)
{
    fprintf(stderr, "alarm-model: %s: this subcommand is not part of this build\n", name);
    return TOOL_FAIL;
}
__attribute__((weak)) int model_cmd_info(int c, char **v) { (void)c; (void)v; return missing("info"); }
__attribute__((weak)) int model_cmd_tokenize(int c, char **v) { (void)c; (void)v; return missing("tokenize"); }
__attribute__((weak)) int model_cmd_train_tokenizer(int c, char **v) { (void)c; (void)v; return missing("train-tokenizer"); }
__attribute__((weak)) int model_cmd_logprobs(int c, char **v) { (void)c; (void)v; return missing("logprobs"); }
__attribute__((weak)) int model_cmd_bench(int c, char **v) { (void)c; (void)v; return missing("bench"); }
__attribute__((weak)) int model_cmd_merge_lora(int c, char **v) { (void)c; (void)v; return missing("merge-lora"); }

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *about;
} commands[] = {
    {"info", model_cmd_info, "a checkpoint's architecture, sizes and parameters as JSON"},
    {"tokenize", model_cmd_tokenize, "add token ids and byte offsets to JSONL records"},
    {"train-tokenizer", model_cmd_train_tokenizer, "learn a byte-level BPE tokenizer.json"},
    {"logprobs", model_cmd_logprobs, "teacher-forced log-probabilities of each response"},
    {"bench", model_cmd_bench, "tokens/s of training and sampling, next to sgemm"},
    {"merge-lora", model_cmd_merge_lora, "fold a LoRA adapter directory into its base"},
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

/* "Commands:" and one line per subcommand, for --help. */
static char *about_text(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fputs("Commands (each takes --help):\n", f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-24s%s\n", commands[i].name, commands[i].about);
    return fclose(f) == 0 ? buf : (free(buf), NULL);
}

int main(int argc, char **argv)
{
    tool_init();
    for (size_t i = 0; argc > 1 && i < NCOMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    char *about = about_text();
    tool_spec spec = {.name = "alarm-model", .id = TOOL_MODEL, .usage = usage,
                      .about = about, .page = "alarm-model(1)"};
    tool t;
    int status = opt_parse(&t, &spec, NULL, argc, argv);
    free(about);
    if (status >= 0)
        return status;
    if (t.nargs == 0)
        return tool_usage(&t, "missing subcommand");
    return tool_usage(&t, "unknown subcommand '%s'", t.args[0]);
}
