/* shard: the --shard I/N rule of every sharded stage (see shard.h). A hash
 * of the prompt id rather than a record's position: a position means a
 * different thing in a file of prompts, of rollouts (n per prompt) and of
 * judged systems, while the id is the same in all of them. */
#include "shard.h"

#include <stdint.h>
#include <string.h>

#include "sha256.h"

int shard_takes(const char *prompt_id, long i, long n)
{
    if (n <= 1)
        return 1;
    sha256_ctx c;
    uint8_t d[32];
    sha256_init(&c);
    sha256_update(&c, prompt_id, strlen(prompt_id));
    sha256_final(&c, d);
    uint64_t h = 0;
    for (int k = 0; k < 8; k++)
        h = h << 8 | d[k];
    return h % (uint64_t)n == (uint64_t)i;
}
