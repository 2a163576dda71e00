/* gen-model: writes a GPT-2 checkpoint with random weights (transformers'
 * initialisation) for the benchmarks: gen-model DIR V C L NH MAXT, or a
 * Llama-family one with gen-model DIR V C L NH MAXT llama NKV FF.
 * Speed does not depend on the weights' values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfm.h"
#include "tfm_ckpt.h"
#include "tfm_config.h"

int main(int argc, char **argv)
{
    int llama = argc == 10 && !strcmp(argv[7], "llama");
    if (argc != 7 && !llama) {
        fprintf(stderr, "usage: gen-model DIR V C L NH MAXT [llama NKV FF]\n");
        return 2;
    }
    tfm_config cfg;
    tfm_model m;
    /* GEN_DTYPE=bf16: stored as released checkpoints are (fp32 in memory either way) */
    const char *dt = getenv("GEN_DTYPE");
    tfm_save_opts opts = {.dtype = dt && !strcmp(dt, "bf16") ? ST_BF16 : ST_F32};
    alarm_err e;
    int V = atoi(argv[2]), C = atoi(argv[3]), L = atoi(argv[4]), NH = atoi(argv[5]);
    if (llama)
        tfm_config_init(&cfg, TFM_LLAMA, V, C, L, NH, atoi(argv[8]), atoi(argv[9]), atoi(argv[6]));
    else
        tfm_config_init(&cfg, TFM_GPT2, V, C, L, NH, NH, 0, atoi(argv[6]));
    cfg.eos_id = 0;
    if (tfm_build(&m, &cfg, 1, 8, &e) || (tfm_init_random(&m, 1), 0) ||
        tfm_save_as(&m, argv[1], NULL, &opts, &e)) {
        fprintf(stderr, "gen-model: %s\n", e.msg);
        return 1;
    }
    tfm_free(&m);
    return 0;
}
