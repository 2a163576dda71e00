/* judge_tmpl: what an LLM judge is asked and how its answer is read.
 * A template is plain text: the lines before a line holding only "---" are
 * the system message, the lines after it the user message; {instruction},
 * {output_a} and {output_b} are replaced in one pass (text that comes in with
 * a response is never expanded again). The request is an OpenAI-compatible
 * chat-completions body at temperature 0, optionally with one function the
 * judge must call with its choice. */
#ifndef ALARM_JUDGE_TMPL_H
#define ALARM_JUDGE_TMPL_H

#include <stddef.h>

#include "err.h"
#include "judge.h"

typedef struct {
    char *system; /* malloc'd */
    char *user;   /* malloc'd */
} judge_tmpl;

/* The default template, the same text as data/judge-template.txt. */
extern const char judge_default_template[];

/* Splits `text`; `name` names it in messages. */
int judge_tmpl_parse(judge_tmpl *t, const char *text, const char *name, alarm_err *e);
/* Reads and parses a template file; path NULL means the default. */
int judge_tmpl_load(judge_tmpl *t, const char *path, alarm_err *e);
void judge_tmpl_free(judge_tmpl *t);

/* `tmpl` with the placeholders replaced (malloc'd; NULL when out of memory). */
char *judge_tmpl_fill(const char *tmpl, const char *instruction, const char *out_a,
                      const char *out_b);

/* The JSON request body (malloc'd) for `model`, asking about out_a shown as
 * Output (a) and out_b as Output (b). */
char *judge_request_body(const char *model, const judge_tmpl *t, int use_tool,
                         const char *instruction, const char *out_a, const char *out_b,
                         alarm_err *e);

/* Reads the verdict from a chat-completions response body: the tool call's
 * arguments when there is one, else the message text. Sets *verdict to JV_A
 * (Output (a)), JV_B or JV_UNPARSEABLE. Returns -1 when the body is not a
 * chat completion at all (malformed JSON, no choices). */
int judge_parse_response(const char *body, int *verdict, alarm_err *e);

/* Reads a verdict from answer text: JV_A, JV_B or JV_UNPARSEABLE. */
int judge_parse_text(const char *text);

#endif
