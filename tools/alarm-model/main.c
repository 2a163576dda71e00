/* alarm-model: inspect and exercise the model runtime: checkpoint info,
 * tokenization, teacher-forced log-probs and the runtime benchmark.
 * This file only dispatches; each subcommand lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "model_cmds.h"

static const char usage[] =
    "alarm-model info DIR\n"
    "       alarm-model tokenize --tokenizer FILE|DIR [--add-special] [FILE...]\n"
    "       alarm-model train-tokenizer --vocab-size N --out FILE [FILE...]\n"
    "       alarm-model logprobs --model DIR [FILE...]\n"
    "       alarm-model bench [--config tiny|small|gpt2] [--format json]";

/* A subcommand whose file is not in this tree links to this fallback. */
static int missing(const char *name)
{
    fprintf(stderr, "alarm-model: %s: this subcommand is not part of this build\n", name);
    return CLI_FAIL;
}
__attribute__((weak)) int model_cmd_info(int c, char **v) { (void)c; (void)v; return missing("info"); }
__attribute__((weak)) int model_cmd_tokenize(int c, char **v) { (void)c; (void)v; return missing("tokenize"); }
__attribute__((weak)) int model_cmd_train_tokenizer(int c, char **v) { (void)c; (void)v; return missing("train-tokenizer"); }
__attribute__((weak)) int model_cmd_logprobs(int c, char **v) { (void)c; (void)v; return missing("logprobs"); }
__attribute__((weak)) int model_cmd_bench(int c, char **v) { (void)c; (void)v; return missing("bench"); }

static const struct {
    const char *name;
    int (*run)(int, char **);
} commands[] = {
    {"info", model_cmd_info},
    {"tokenize", model_cmd_tokenize},
    {"train-tokenizer", model_cmd_train_tokenizer},
    {"logprobs", model_cmd_logprobs},
    {"bench", model_cmd_bench},
};

int main(int argc, char **argv)
{
    cli_common cli;
    cli_init(&cli, "alarm-model", usage);
    if (argc < 2)
        return cli_usage_error(&cli, "missing subcommand");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: %s\n\nSee alarm-model(1).\n", usage);
        return cli_finish_stdout(&cli, CLI_OK);
    }
    if (!strcmp(argv[1], "--version"))
        return cli_print_version(&cli);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    return cli_usage_error(&cli, "unknown subcommand '%s'", argv[1]);
}
