#!/usr/bin/env bash
# gen-combined.sh N V PROMPT RESPONSE SEED: N combined records (alarm-formats(5)
# section 4) of random token ids below V, PROMPT and RESPONSE tokens each, a
# reward of (i mod 4) / 4 on the last response token; on standard output.
set -euo pipefail
awk -v n="$1" -v V="$2" -v P="$3" -v R="$4" -v seed="$5" 'BEGIN { srand(seed)
    for (i = 0; i < n; i++) { p = ""; r = ""; d = ""
        for (j = 0; j < P || j < R; j++) {
            if (j < P) p = p (j ? "," : "") int(rand() * V)
            if (j < R) { r = r (j ? "," : "") int(rand() * V); d = d (j ? "," : "") (j == R - 1 ? (i % 4) / 4 : 0) } }
        printf "{\"id\":\"r%d\",\"prompt_tokens\":[%s],\"response_tokens\":[%s],\"reward\":{\"dense\":[%s],\"total\":%s}}\n",
            i, p, r, d, (i % 4) / 4 } }'
