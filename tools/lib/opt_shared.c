/* opt_shared: the options more than one tool takes, declared once, each with
 * the tools that take it. Only a tool that records a run takes --db (and
 * reads ALARM_DB); the others refuse it as a usage error. */
#include <stddef.h>

#include "opt.h"

const opt_def opt_shared[] = {
    {.name = "db", .arg = "FILE", .help = "record the run into this SQLite store",
     .env = "ALARM_DB", .tools = TOOL_RECORDS, .type = OPT_STR, .off = offsetof(tool, db)},
    {.name = "seed", .arg = "S", .help = "seed of every random choice", .dflt = "42",
     .tools = TOOL_ALL & ~(TOOL_MODEL | TOOL_DB), .type = OPT_U64, .off = offsetof(tool, seed)},
    {.name = "threads", .arg = "N", .help = "threads for the parallel loops", .dflt = "all cores",
     .tools = TOOL_ALL & ~(TOOL_MODEL | TOOL_DB), .type = OPT_LONG, .off = offsetof(tool, threads),
     .min = 1, .max = 1024},
    {.name = "quiet", .short_name = 'q', .help = "no progress, counts or tables on stderr",
     .tools = TOOL_ALL & ~TOOL_MODEL, .type = OPT_FLAG, .off = offsetof(tool, quiet)},
    {.name = "no-check-weights", .help = "do not scan the weights for NaN and infinities at load",
     .tools = TOOL_LOADS_WEIGHTS, .type = OPT_FLAG, .off = offsetof(tool, no_check_weights)},
    {.name = "dropout", .help = "train with the checkpoint's dropout (off: each step deterministic)",
     .tools = TOOL_TRAINS, .type = OPT_FLAG, .off = offsetof(tool, dropout)},
    {.name = "lora", .arg = "r=R,alpha=A,dropout=D,targets=NAME,...",
     .help = "train LoRA adapters on the frozen model (\"default\": r 16, alpha 32,\n"
             "dropout 0.05, targets c_attn or q_proj,v_proj); saves an adapter directory",
     .tools = TOOL_TRAINS, .type = OPT_CALL, .call = opt_parse_lora},
    {.name = "help", .short_name = 'h', .help = "this help", .tools = TOOL_ALL,
     .type = OPT_FLAG, .off = offsetof(tool, help)},
    {.name = "version", .help = "the program's name and version", .tools = TOOL_ALL,
     .type = OPT_FLAG, .off = offsetof(tool, version)},
    {0},
};
