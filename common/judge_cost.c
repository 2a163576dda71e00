/* judge_cost: see judge_cost.h. */
#include "judge_cost.h"

#include <cjson/cJSON.h>
#include <string.h>

void judge_usage(const char *body, long *prompt_tokens, long *completion_tokens)
{
    cJSON *r = cJSON_Parse(body);
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(r, "usage");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(u, "completion_tokens");
    if (cJSON_IsNumber(p) && p->valuedouble >= 0)
        *prompt_tokens += (long)p->valuedouble;
    if (cJSON_IsNumber(c) && c->valuedouble >= 0)
        *completion_tokens += (long)c->valuedouble;
    cJSON_Delete(r);
}

int judge_capped(const judge_llm_cfg *c, const judge_progress *st)
{
    if (c->max_requests > 0 && st->queued >= c->max_requests)
        return 1;
    return c->max_tokens > 0 && (double)(st->prompt_tokens + st->completion_tokens) >= c->max_tokens;
}

double judge_prompt_tokens(const char *body, const bpe *tok)
{
    cJSON *r = cJSON_Parse(body);
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(r, "messages"), *m;
    double n = 0;
    bpe_out out = {0};
    alarm_err e;
    cJSON_ArrayForEach(m, msgs)
    {
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!cJSON_IsString(content))
            continue;
        size_t len = strlen(content->valuestring);
        if (tok && bpe_encode(&out, tok, content->valuestring, len, 0, &e) == 0)
            n += (double)out.n;
        else
            n += (double)len / 4.0;
    }
    bpe_out_free(&out);
    cJSON_Delete(r);
    return n;
}
