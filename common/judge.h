/* judge: what every part of alarm-judge shares: verdicts and the judgment
 * record (alarm-formats(5) section 6). A verdict is always about the two systems,
 * never about the position an output was shown in: in order "ba" the judge
 * saw system b's response as Output (a), and saying "Output (a)" is "b". */
#ifndef ALARM_JUDGE_H
#define ALARM_JUDGE_H

#include <cjson/cJSON.h>

enum judge_verdict { JV_A, JV_B, JV_TIE, JV_UNPARSEABLE, JV_FAILED };

/* "a", "b", "tie", "unparseable", "failed". */
const char *judge_verdict_name(int v);
/* The verdict so named, or -1 (a name of the store's judgments table). */
int judge_verdict_parse(const char *name);

/* The pair's result from its two orders: a win needs both to agree. */
int judge_combine(int v_ab, int v_ba);

/* One judgment (one order of one pair of one prompt by one judge). */
typedef struct {
    const char *prompt_id, *a, *b;
    const char *order;     /* "ab" or "ba" */
    const char *judge;     /* model name or "reward:NAME" */
    int verdict;
    int cached;
    double latency_ms;     /* < 0 when no request was made */
    const char *error;     /* why a request failed for good, or NULL */
    const char *cache_key; /* NULL for reward judges and identical responses */
    int has_values;        /* reward judges: the two values compared */
    double value_a, value_b;
} judge_rec;

/* The record as the JSON object written to --out (NULL when out of memory). */
cJSON *judge_rec_json(const judge_rec *r);

#endif
