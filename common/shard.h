/* shard: which records a `--shard I/N` run takes. Every sharded stage
 * (alarm-rollout, alarm-score, alarm-judge) splits by prompt id with this
 * one rule, so all the samples, scores and judgments of a prompt land in the
 * same shard whatever file, order or stage they come from, and the N shards
 * together take every prompt exactly once (alarm(7), "Scaling out"). */
#ifndef ALARM_SHARD_H
#define ALARM_SHARD_H

/* 1 when shard i of n takes the records of this prompt id: the first 8 bytes
 * of the id's SHA-256, read big-endian, modulo n equal i. n = 1 takes all. */
int shard_takes(const char *prompt_id, long i, long n);

#endif
