/* spend: alarm-judge's reports on what judging costs (alarm-judge(1),
 * COST): the dry run's count of the requests still needed, and the message
 * when --max-requests or --max-tokens-total held judgments back. */
#include <stdio.h>

#include "judging.h"
#include "out.h"

int spend_dry_report(const tool *t, const judge_args *a, const judge_progress *p)
{
    if (a->json)
        printf("{\"dry_run\": {\"requests\": %ld, \"judgments\": %ld, \"identical\": %ld, "
               "\"cached\": %ld, \"shared\": %ld, \"prompt_tokens\": %.0f, "
               "\"prompt_tokens_by\": \"%s\"}}\n",
               p->queued, p->total, p->identical, p->cached, p->shared, p->dry_tokens,
               a->tokenizer ? "tokenizer" : "estimate");
    else
        printf("dry run: %ld requests to send for %ld judgments (%ld identical pairs, %ld "
               "answers cached, %ld questions shared need none), carrying %.0f prompt tokens "
               "(%s%s)\n",
               p->queued, p->total, p->identical, p->cached, p->shared, p->dry_tokens,
               a->tokenizer ? "counted with " : "estimated at four bytes a token",
               a->tokenizer ? a->tokenizer : "");
    (void)t;
    return tool_stdout_failed() ? TOOL_FAIL : TOOL_OK;
}

void spend_cap_message(const tool *t, const judge_args *a, const judge_progress *p,
                       int has_store)
{
    char cap[96];
    if (a->max_requests > 0 && p->queued >= a->max_requests)
        snprintf(cap, sizeof cap, "--max-requests %ld", a->max_requests);
    else
        snprintf(cap, sizeof cap, "--max-tokens-total %.0f", a->max_tokens_total);
    tool_error(t, "stopped at %s: %ld requests sent, %ld prompt and %ld completion tokens used; "
                  "%ld judgments not made, the summary is partial%s",
               cap, p->queued, p->prompt_tokens, p->completion_tokens, p->not_made,
               has_store ? "; the same command with a higher cap makes only those"
                         : "; without --db a rerun asks everything again");
}
