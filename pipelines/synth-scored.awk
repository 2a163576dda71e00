#!/usr/bin/awk -f
# Writes deterministic synthetic *scored* records (alarm-formats(5) section 3) for the
# demo and for trying alarm-select by hand: PROMPTS prompts x SAMPLES responses,
# each of 1-4 sentences, one token per word. A hidden quality q drives whether
# each sentence is factual; the holistic reward sees q through noise, so
# factuality agrees with it often, readability (pure noise) about half the
# time, and length (lower is better) rarely.
#   awk -v PROMPTS=32 -v SAMPLES=4 -v SEED=7 -f pipelines/synth-scored.awk
BEGIN {
    if (PROMPTS == "") PROMPTS = 32
    if (SAMPLES == "") SAMPLES = 4
    if (SEED == "") SEED = 7
    srand(SEED)
    split("Arvel Brisk Corran Dunmere Elsk Fallow Grint Hollis", name, " ")
    split("river mountain city harbour forest valley", kind, " ")
    for (p = 0; p < PROMPTS; p++) {
        pid = sprintf("q-%05d", p)
        ent = name[1 + p % 8]
        for (s = 0; s < SAMPLES; s++) {
            q = rand()
            nsent = 1 + int(rand() * 4)
            resp = ""; toks = ""; offs = ""; spans = ""; nfact = 0; ntok = 0
            for (k = 0; k < nsent; k++) {
                fact = rand() < q
                nfact += fact
                sent = (k ? " " : "") "The " kind[1 + int(rand() * 6)] " of " ent " is " \
                       (fact ? "old" : "new") "."
                # one token per word with its leading space; byte offsets into resp
                n = split(sent, w, " ")   # a " " separator ignores leading blanks
                pos = length(resp)
                for (i = 1; i <= n; i++) {
                    start = pos; end = pos + length(w[i]) + (i > 1 || k > 0 ? 1 : 0)
                    toks = toks (ntok ? "," : "") (100 + (length(w[i]) * 37 + i) % 900)
                    offs = offs (ntok ? "," : "") "[" start "," end "]"
                    ntok++; pos = end
                }
                resp = resp sent
                spans = spans (k ? "," : "") sprintf("{\"end\":%d,\"value\":%s}", length(resp),
                                                     fact ? "0.5" : "-0.5")
            }
            h = q + (rand() - 0.5) * 0.3
            read = rand() * 2 - 1
            printf "{\"id\":\"%s#%d\",\"prompt_id\":\"%s\",\"sample\":%d,", pid, s, pid, s
            printf "\"prompt\":\"question: where is %s? answer:\",\"response\":\"%s\",", ent, resp
            printf "\"response_tokens\":[%s],\"offsets\":[%s],\"finish\":\"length\",", toks, offs
            printf "\"rewards\":{\"holistic\":{\"value\":%.4f},", h
            printf "\"factuality\":{\"value\":%.4f,\"spans\":[%s]},", nfact / nsent, spans
            printf "\"readability\":{\"value\":%.4f},", read
            printf "\"length\":{\"value\":%d}}}\n", ntok
        }
    }
}
