/* gen-model: writes a GPT-2 checkpoint with random weights (transformers'
 * initialisation) for the benchmarks: gen-model DIR V C L NH MAXT.
 * Speed does not depend on the weights' values. */
#include <stdio.h>
#include <stdlib.h>

#include "tfm.h"
#include "tfm_ckpt.h"
#include "tfm_config.h"

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: gen-model DIR V C L NH MAXT\n");
        return 2;
    }
    tfm_config cfg;
    tfm_model m;
    alarm_err e;
    int V = atoi(argv[2]), C = atoi(argv[3]), L = atoi(argv[4]), NH = atoi(argv[5]);
    tfm_config_init(&cfg, TFM_GPT2, V, C, L, NH, NH, 0, atoi(argv[6]));
    cfg.eos_id = 0;
    if (tfm_build(&m, &cfg, 1, 8, &e) || (tfm_init_random(&m, 1), 0) ||
        tfm_save(&m, argv[1], NULL, &e)) {
        fprintf(stderr, "gen-model: %s\n", e.msg);
        return 1;
    }
    tfm_free(&m);
    return 0;
}
