/* judge_tmpl: templates, request bodies and verdict parsing (see judge_tmpl.h).
 * Verdict parsing is strict on purpose: an answer that names neither output,
 * or both without leading with one, is unparseable and becomes a tie; it is
 * never turned into a guess. */
#include "judge_tmpl.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fsio.h"

const char judge_default_template[] =
    "You are an impartial referee comparing two answers to the same instruction. Decide "
    "which answer serves the person who wrote the instruction better: correct, relevant, "
    "complete and clearly written. Do not let the order in which the answers appear, or "
    "their length, sway you. Reply with exactly one of the two strings Output (a) or "
    "Output (b), and nothing else.\n"
    "---\n"
    "Instruction:\n"
    "{instruction}\n"
    "\n"
    "Output (a):\n"
    "{output_a}\n"
    "\n"
    "Output (b):\n"
    "{output_b}\n"
    "\n"
    "Which output is better? Reply with exactly \"Output (a)\" or \"Output (b)\".\n";

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Drops one trailing newline (and a CR before it), which the file format
 * puts at the end of each part but is not part of the message. */
static size_t trim_newline(const char *s, size_t n)
{
    if (n > 0 && s[n - 1] == '\n')
        n--;
    if (n > 0 && s[n - 1] == '\r')
        n--;
    return n;
}

int judge_tmpl_parse(judge_tmpl *t, const char *text, const char *name, alarm_err *e)
{
    t->system = t->user = NULL;
    const char *line = text, *sep = NULL;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        size_t l = len > 0 && line[len - 1] == '\r' ? len - 1 : len;
        if (l == 3 && memcmp(line, "---", 3) == 0) {
            sep = line;
            break;
        }
        line += len + (nl ? 1 : 0);
    }
    if (!sep)
        return err_set(e, "%s: no line holding only '---' between the system and the user message",
                       name);
    const char *after = strchr(sep, '\n');
    after = after ? after + 1 : sep + strlen(sep);
    t->system = dup_range(text, trim_newline(text, (size_t)(sep - text)));
    t->user = dup_range(after, trim_newline(after, strlen(after)));
    if (!t->system || !t->user) {
        judge_tmpl_free(t);
        return err_set(e, "%s: out of memory", name);
    }
    if (!strstr(t->user, "{output_a}") || !strstr(t->user, "{output_b}")) {
        judge_tmpl_free(t);
        return err_set(e, "%s: the user message must contain {output_a} and {output_b}", name);
    }
    return 0;
}

int judge_tmpl_load(judge_tmpl *t, const char *path, alarm_err *e)
{
    if (!path)
        return judge_tmpl_parse(t, judge_default_template, "default template", e);
    size_t len;
    char *buf = fsio_read_file(path, SIZE_MAX, &len, e);
    if (!buf)
        return -1;
    int rc = judge_tmpl_parse(t, buf, path, e);
    free(buf);
    return rc;
}

void judge_tmpl_free(judge_tmpl *t)
{
    free(t->system);
    free(t->user);
    t->system = t->user = NULL;
}

char *judge_tmpl_fill(const char *tmpl, const char *instruction, const char *out_a,
                      const char *out_b)
{
    static const char *const keys[3] = {"{instruction}", "{output_a}", "{output_b}"};
    const char *vals[3] = {instruction, out_a, out_b};
    size_t cap = strlen(tmpl) + strlen(instruction) + strlen(out_a) + strlen(out_b) + 1;
    /* Each placeholder may occur more than once: size for the worst case. */
    for (const char *p = tmpl; (p = strchr(p, '{')); p++)
        for (int k = 0; k < 3; k++)
            if (strncmp(p, keys[k], strlen(keys[k])) == 0)
                cap += strlen(vals[k]);
    char *out = malloc(cap), *o = out;
    if (!out)
        return NULL;
    for (const char *p = tmpl; *p;) {
        int hit = -1;
        if (*p == '{')
            for (int k = 0; k < 3 && hit < 0; k++)
                if (strncmp(p, keys[k], strlen(keys[k])) == 0)
                    hit = k;
        if (hit < 0) {
            *o++ = *p++;
            continue;
        }
        size_t n = strlen(vals[hit]);
        memcpy(o, vals[hit], n);
        o += n;
        p += strlen(keys[hit]);
    }
    *o = '\0';
    return out;
}

static cJSON *choice_tool(void)
{
    cJSON *tools = cJSON_CreateArray();
    cJSON *tool = cJSON_CreateObject();
    cJSON_AddItemToArray(tools, tool);
    cJSON_AddStringToObject(tool, "type", "function");
    cJSON *fn = cJSON_AddObjectToObject(tool, "function");
    cJSON_AddStringToObject(fn, "name", "choose_output");
    cJSON_AddStringToObject(fn, "description", "Report which output is better.");
    cJSON *params = cJSON_AddObjectToObject(fn, "parameters");
    cJSON_AddStringToObject(params, "type", "object");
    cJSON *choice = cJSON_AddObjectToObject(cJSON_AddObjectToObject(params, "properties"), "choice");
    cJSON_AddStringToObject(choice, "type", "string");
    const char *opts[2] = {"Output (a)", "Output (b)"};
    cJSON_AddItemToObject(choice, "enum", cJSON_CreateStringArray(opts, 2));
    const char *req[1] = {"choice"};
    cJSON_AddItemToObject(params, "required", cJSON_CreateStringArray(req, 1));
    return tools;
}

char *judge_request_body(const char *model, const judge_tmpl *t, int use_tool,
                         const char *instruction, const char *out_a, const char *out_b,
                         alarm_err *e)
{
    char *sys = judge_tmpl_fill(t->system, instruction, out_a, out_b);
    char *user = judge_tmpl_fill(t->user, instruction, out_a, out_b);
    cJSON *req = cJSON_CreateObject();
    char *body = NULL;
    if (!sys || !user || !req)
        goto done;
    cJSON_AddStringToObject(req, "model", model);
    cJSON *msgs = cJSON_AddArrayToObject(req, "messages");
    if (*sys) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddItemToArray(msgs, m);
        cJSON_AddStringToObject(m, "role", "system");
        cJSON_AddStringToObject(m, "content", sys);
    }
    cJSON *m = cJSON_CreateObject();
    cJSON_AddItemToArray(msgs, m);
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddStringToObject(m, "content", user);
    cJSON_AddNumberToObject(req, "temperature", 0);
    if (use_tool) {
        cJSON_AddItemToObject(req, "tools", choice_tool());
        cJSON *tc = cJSON_AddObjectToObject(req, "tool_choice");
        cJSON_AddStringToObject(tc, "type", "function");
        cJSON_AddStringToObject(cJSON_AddObjectToObject(tc, "function"), "name", "choose_output");
    }
    body = cJSON_PrintUnformatted(req);
done:
    free(sys);
    free(user);
    cJSON_Delete(req);
    if (!body)
        err_set(e, "out of memory building a request");
    return body;
}

static int starts_with_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static const char *find_ci(const char *s, const char *needle)
{
    for (; *s; s++)
        if (starts_with_ci(s, needle))
            return s;
    return NULL;
}

int judge_parse_text(const char *text)
{
    while (isspace((unsigned char)*text) || *text == '"' || *text == '\'' || *text == '*')
        text++;
    /* A bare letter, as some judges answer despite being asked otherwise. */
    char bare[8];
    size_t n = 0;
    for (const char *p = text; *p && n < sizeof bare - 1; p++)
        if (!isspace((unsigned char)*p) && !strchr("\"'*.()", *p))
            bare[n++] = (char)tolower((unsigned char)*p);
    bare[n] = '\0';
    if (strlen(text) <= 8 && (strcmp(bare, "a") == 0 || strcmp(bare, "b") == 0))
        return bare[0] == 'a' ? JV_A : JV_B;
    if (starts_with_ci(text, "output (a)"))
        return JV_A;
    if (starts_with_ci(text, "output (b)"))
        return JV_B;
    int a = find_ci(text, "output (a)") != NULL, b = find_ci(text, "output (b)") != NULL;
    if (a != b)
        return a ? JV_A : JV_B;
    return JV_UNPARSEABLE;
}

/* The verdict inside a tool call's arguments: {"choice": "..."}, or the
 * first string value when the judge named the field differently. */
static int parse_tool_args(const char *args)
{
    cJSON *a = cJSON_Parse(args);
    int v = JV_UNPARSEABLE;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(a, "choice");
    if (!cJSON_IsString(c) && cJSON_IsObject(a))
        for (c = a->child; c && !cJSON_IsString(c); c = c->next)
            ;
    if (cJSON_IsString(c))
        v = judge_parse_text(c->valuestring);
    cJSON_Delete(a);
    return v;
}

int judge_parse_response(const char *body, int *verdict, alarm_err *e)
{
    cJSON *r = cJSON_Parse(body);
    if (!r)
        return err_set(e, "response is not JSON");
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(r, "choices");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(choices, 0), "message");
    if (!cJSON_IsObject(msg)) {
        cJSON_Delete(r);
        return err_set(e, "response has no choices[0].message");
    }
    *verdict = JV_UNPARSEABLE;
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(calls, 0), "function");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (cJSON_IsString(args))
        *verdict = parse_tool_args(args->valuestring);
    if (*verdict == JV_UNPARSEABLE && cJSON_IsString(content))
        *verdict = judge_parse_text(content->valuestring);
    cJSON_Delete(r);
    return 0;
}
