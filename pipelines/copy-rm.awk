# copy-rm.awk: reward-model records (alarm-formats(5) section 1) on the copy
# task of copy-task.awk ("copy abcd:" -> " abcd", 3 to 6 letters of a-h),
# the training example of alarm-rm(1):
#   kind=seq   preference records: chosen the copy, rejected the copy with
#              one letter changed into one of i-p (never in a prompt);
#   kind=spans span-label records: each letter of the response a span, the
#              letter changed so with probability 0.3 and labelled bad, else good.
#   awk -v kind=seq -v n=2000 -v seed=1 -f pipelines/copy-rm.awk > prefs.jsonl
function other() { return sprintf("%c", 105 + int(rand() * 8)) }
BEGIN {
    if (n == "") n = 1000
    if (seed == "") seed = 1
    if (kind == "") kind = "seq"
    srand(seed)
    for (i = 0; i < n; i++) {
        k = 3 + int(rand() * 4)
        s = ""
        for (j = 0; j < k; j++)
            s = s sprintf("%c", 97 + int(rand() * 8))
        if (kind == "seq") {
            p = 1 + int(rand() * k)
            r = substr(s, 1, p - 1) other() substr(s, p + 1)
            printf "{\"id\":\"pref%d-%d\",\"prompt\":\"copy %s:\",\"chosen\":\" %s\",\"rejected\":\" %s\"}\n", seed, i, s, s, r
            continue
        }
        r = ""
        spans = ""
        for (j = 1; j <= k; j++) {
            c = substr(s, j, 1)
            bad = rand() < 0.3
            r = r (bad ? other() : c)
            spans = spans sprintf("%s{\"start\":%d,\"end\":%d,\"label\":\"%s\"}", j > 1 ? "," : "", j, j + 1, bad ? "bad" : "good")
        }
        printf "{\"id\":\"span%d-%d\",\"prompt\":\"copy %s:\",\"response\":\" %s\",\"spans\":[%s]}\n", seed, i, s, r, spans
    }
}
