/* judge_cost: what judging spends (alarm-judge(1), COST): the tokens an
 * answer's "usage" reports, whether a cap forbids the next request, and the
 * prompt tokens a request carries (counted with a tokenizer, or estimated). */
#ifndef ALARM_JUDGE_COST_H
#define ALARM_JUDGE_COST_H

#include "bpe.h"
#include "judge_run.h"

/* Adds an OpenAI-style answer's usage.prompt_tokens and completion_tokens
 * (absent: nothing). */
void judge_usage(const char *body, long *prompt_tokens, long *completion_tokens);

/* 1 when --max-requests or --max-tokens-total forbids another request. */
int judge_capped(const judge_llm_cfg *c, const judge_progress *st);

/* The tokens of the messages' contents of a request body: by `tok`, or
 * about four bytes a token when tok is NULL. */
double judge_prompt_tokens(const char *body, const bpe *tok);

#endif
