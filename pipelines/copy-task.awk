# copy-task.awk: demonstration records (alarm-formats(5) section 1) of a task
# a small model learns from scratch in seconds: "copy abcd:" -> " abcd",
# 3 to 6 letters of a-h. The training example of alarm-sft(1).
#   awk -v n=2000 -v seed=1 -f pipelines/copy-task.awk > train.jsonl
BEGIN {
    if (n == "") n = 1000
    if (seed == "") seed = 1
    srand(seed)
    for (i = 0; i < n; i++) {
        k = 3 + int(rand() * 4)
        s = ""
        for (j = 0; j < k; j++)
            s = s sprintf("%c", 97 + int(rand() * 8))
        printf "{\"id\":\"copy%d-%d\",\"prompt\":\"copy %s:\",\"response\":\" %s\"}\n", seed, i, s, s
    }
}
