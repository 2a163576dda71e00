/* reward_scan: reward_parse's fast path, straight from the raw line.
 * cJSON builds a node per value (a malloc and a strtod per token id, offset
 * and log-prob), which is most of alarm-select's time; this validates the
 * line as JSON without building anything and converts only the numbers it
 * needs. It is conservative: anything it is unsure how cJSON would read
 * (escaped keys, duplicate keys, raw control characters, a byte-order mark,
 * \u0000 or surrogate escapes, deep nesting, numbers outside strict JSON,
 * token ids or offsets that are not plain integers) and every error sends
 * the record to the general path, which then decides and gives the message.
 * The "rewards" object, small next to the token arrays, is parsed by cJSON
 * and read by the general path's own reader. So it never accepts what
 * the general path rejects, and reads the same values (the fuzz target
 * checks both). */
#include <stdlib.h>
#include <string.h>

#include "reward.h"
#include "reward_internal.h"

typedef struct {
    const char *p, *end;
    int depth;
} scan;

enum { MAX_DEPTH = 64 };

/* cJSON's whitespace: every byte up to the space (the line has no NUL). */
static void ws(scan *s)
{
    while (s->p < s->end && (unsigned char)*s->p <= 32)
        s->p++;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = (unsigned char)p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 32) >= 'a' && (c | 32) <= 'f')
            d = (c | 32) - 'a' + 10;
        else
            return -1;
        *v = *v * 16 + d;
    }
    return 0;
}

/* A string at s->p ('"'). Sets its raw contents [*b, *b+*n), its decoded
 * length in bytes and whether it had no escape at all. */
static int str(scan *s, const char **b, size_t *n, size_t *dlen, int *plain)
{
    const char *p = s->p + 1, *end = s->end;
    size_t dl = 0;
    int pl = 1;
    for (;;) {
        const char *q = p;
        while (q < end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
            q++;
        dl += (size_t)(q - p);
        p = q;
        if (p >= end || (unsigned char)*p < 0x20)
            return -1;
        if (*p == '"')
            break;
        pl = 0;
        if (end - p < 2)
            return -1;
        unsigned v;
        switch (p[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            dl++;
            p += 2;
            break;
        case 'u':
            if (end - p < 6 || hex4(p + 2, &v) < 0 || v == 0 || (v >= 0xD800 && v <= 0xDFFF))
                return -1;
            dl += v < 0x80 ? 1 : v < 0x800 ? 2 : 3;
            p += 6;
            break;
        default:
            return -1;
        }
    }
    if (b) {
        *b = s->p + 1;
        *n = (size_t)(p - s->p - 1);
    }
    if (dlen)
        *dlen = dl;
    if (plain)
        *plain = pl;
    s->p = p + 1;
    return 0;
}

static int num_body(scan *s);

static int digits(scan *s)
{
    const char *p = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > p ? 0 : -1;
}

/* A number in strict JSON grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * Longer than 63 characters goes to the general path (some cJSON versions
 * read numbers through a 64-byte buffer). */
static int num(scan *s)
{
    const char *start = s->p;
    int rc = num_body(s);
    return rc == 0 && s->p - start <= 63 ? 0 : -1;
}

static int num_body(scan *s)
{
    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (digits(s) < 0)
        return -1;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (digits(s) < 0)
            return -1;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (digits(s) < 0)
            return -1;
    }
    return 0;
}

static int lit(scan *s, const char *w, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n))
        return -1;
    s->p += n;
    return 0;
}

static int value(scan *s);

/* '[' value (',' value)* ']' or '{' "key": value (, ...)* '}' */
static int container(scan *s, int obj)
{
    if (++s->depth > MAX_DEPTH)
        return -1;
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == (obj ? '}' : ']')) {
        s->p++;
        s->depth--;
        return 0;
    }
    for (;;) {
        if (obj) {
            ws(s);
            if (s->p >= s->end || *s->p != '"' || str(s, NULL, NULL, NULL, NULL) < 0)
                return -1;
            ws(s);
            if (s->p >= s->end || *s->p != ':')
                return -1;
            s->p++;
        }
        if (value(s) < 0)
            return -1;
        ws(s);
        if (s->p >= s->end)
            return -1;
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p != (obj ? '}' : ']'))
            return -1;
        s->p++;
        s->depth--;
        return 0;
    }
}

/* Validates any value (leading whitespace skipped). */
static int value(scan *s)
{
    ws(s);
    if (s->p >= s->end)
        return -1;
    switch (*s->p) {
    case '{': return container(s, 1);
    case '[': return container(s, 0);
    case '"': return str(s, NULL, NULL, NULL, NULL);
    case 't': return lit(s, "true", 4);
    case 'f': return lit(s, "false", 5);
    case 'n': return lit(s, "null", 4);
    default: return (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) ? num(s) : -1;
    }
}

/* Member iteration over an object already validated: begin at '{' (returns
 * 1 when it has members), key (escape-free keys only), next (1: another
 * member follows, 0: the object ended). */
static int mem_begin(scan *s)
{
    s->p++;
    ws(s);
    if (*s->p == '}') {
        s->p++;
        return 0;
    }
    return 1;
}

static int mem_key(scan *s, const char **k, size_t *kn)
{
    int plain;
    ws(s);
    if (str(s, k, kn, NULL, &plain) < 0 || !plain)
        return -1;
    ws(s);
    s->p++; /* ':' */
    ws(s);
    return 0;
}

static int mem_next(scan *s)
{
    ws(s);
    return *s->p++ == ',';
}

static int key_is(const char *k, size_t kn, const char *name)
{
    return strlen(name) == kn && !memcmp(k, name, kn);
}

/* A non-negative integer written as plain digits, at most hi. */
static int uint_at(scan *s, size_t hi, size_t *v)
{
    size_t x = 0;
    const char *p = s->p;
    if (p >= s->end || *p < '0' || *p > '9')
        return -1;
    for (; p < s->end && *p >= '0' && *p <= '9'; p++) {
        x = x * 10 + (size_t)(*p - '0');
        if (x > hi)
            return -1;
    }
    if (p < s->end && (*p == '.' || *p == 'e' || *p == 'E'))
        return -1;
    s->p = p;
    *v = x;
    return 0;
}

/* An array of token ids, each plain digits below 2^31 (anything else, and
 * the message, is the general path's). */
static int tokens_at(size_t *T, scan *s)
{
    size_t n = 0, id;
    if (*s->p != '[')
        return -1;
    s->p++;
    ws(s);
    while (*s->p != ']') {
        if (uint_at(s, 2147483647u, &id) < 0)
            return -1;
        n++;
        ws(s);
        if (*s->p == ',')
            s->p++;
        ws(s);
    }
    *T = n;
    return 0;
}

static int offsets_at(reward_rec *o, scan *s)
{
    size_t i = 0;
    if (*s->p != '[' || reward_grow(&o->off_s, &o->off_cap, o->T, sizeof *o->off_s) < 0 ||
        !(o->off_e = realloc(o->off_e, o->off_cap * sizeof *o->off_e)))
        return -1;
    s->p++;
    ws(s);
    while (*s->p != ']') {
        size_t a, b;
        if (i >= o->T || *s->p != '[')
            return -1;
        s->p++;
        ws(s);
        if (uint_at(s, o->resp_len, &a) < 0)
            return -1;
        ws(s);
        if (*s->p++ != ',')
            return -1;
        ws(s);
        if (uint_at(s, o->resp_len, &b) < 0)
            return -1;
        ws(s);
        if (*s->p++ != ']' || a > b || (i > 0 && (a < o->off_s[i - 1] || b < o->off_e[i - 1])))
            return -1;
        o->off_s[i] = a;
        o->off_e[i++] = b;
        if (mem_next(s) == 0)
            return i == o->T ? 0 : -1;
        ws(s);
    }
    return -1; /* empty, while T >= 1 */
}

/* "rewards": {NAME: {...}, ...}, small next to the token arrays: parsed by
 * cJSON and read by the general path's own reader, so both read it alike.
 * Returns the parsed object (the caller's), or NULL to fall back. */
static cJSON *rewards_at(reward_rec *o, reward_names *names, const char *holistic,
                         const char *p, const char *end)
{
    if (*p != '{')
        return NULL;
    cJSON *rw = cJSON_ParseWithLength(p, (size_t)(end - p));
    jsonl_reader quiet = {.name = ""};
    alarm_err e;
    if (rw && reward_parse_rewards(o, names, holistic, &quiet, rw, &e) < 0) {
        cJSON_Delete(rw);
        rw = NULL;
    }
    return rw;
}

enum { K_ID, K_PROMPT_ID, K_RESPONSE, K_TOKENS, K_OFFSETS, K_REWARDS, K_PROMPT_TOKENS, K_N };
enum { K_REQUIRED = K_PROMPT_TOKENS }; /* the keys before it are required */

/* Validates the whole line and finds the top-level fields (each once). */
static int find_fields(const char *line, size_t len, const char **pos, const char **ends)
{
    static const char *const keys[K_N] = {"id", "prompt_id", "response", "response_tokens",
                                          "offsets", "rewards", "prompt_tokens"};
    scan s = {line, line + len, 0};
    if (len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3))
        return -1;
    ws(&s);
    const char *start = s.p;
    if (s.p >= s.end || *s.p != '{' || value(&s) < 0)
        return -1;
    for (; s.p < s.end; s.p++) /* what jsonl accepts after a record */
        if (*s.p != ' ' && *s.p != '\t' && *s.p != '\r' && *s.p != '\n')
            return -1;
    s.p = start;
    if (!mem_begin(&s))
        return -1;
    do {
        const char *k;
        size_t kn;
        if (mem_key(&s, &k, &kn) < 0 || key_is(k, kn, "reward"))
            return -1;
        for (int i = 0; i < K_N; i++)
            if (key_is(k, kn, keys[i])) {
                if (pos[i])
                    return -1;
                pos[i] = s.p;
            }
        const char *at = s.p;
        value(&s);
        for (int i = 0; i < K_N; i++)
            if (pos[i] == at)
                ends[i] = s.p;
    } while (mem_next(&s));
    for (int i = 0; i < K_REQUIRED; i++)
        if (!pos[i])
            return -1;
    return 0;
}

int reward_scan_rw(reward_rec *o, reward_names *names, const char *holistic, const char *line,
                   size_t len, const char **id, size_t *id_n, const char **pid, size_t *pid_n,
                   cJSON **rewards)
{
    const char *pos[K_N] = {0}, *ends[K_N] = {0};
    int plain;
    size_t np;
    *rewards = NULL;
    if (find_fields(line, len, pos, ends) < 0)
        return 0;
    scan s = {pos[K_ID], line + len, 0};
    if (*s.p != '"' || str(&s, id, id_n, NULL, &plain) < 0 || !plain)
        return 0;
    s.p = pos[K_PROMPT_ID];
    if (*s.p != '"' || str(&s, pid, pid_n, NULL, &plain) < 0 || !plain)
        return 0;
    s.p = pos[K_RESPONSE];
    if (*s.p != '"' || str(&s, NULL, NULL, &o->resp_len, NULL) < 0)
        return 0;
    s.p = pos[K_TOKENS];
    if (tokens_at(&o->T, &s) < 0 || o->T == 0)
        return 0;
    s.p = pos[K_PROMPT_TOKENS];
    if (s.p && tokens_at(&np, &s) < 0)
        return 0;
    s.p = pos[K_OFFSETS];
    if (offsets_at(o, &s) < 0)
        return 0;
    *rewards = rewards_at(o, names, holistic, pos[K_REWARDS], ends[K_REWARDS]);
    return *rewards != NULL;
}

int reward_scan(reward_rec *o, reward_names *names, const char *holistic, const char *line,
                size_t len, const char **id, size_t *id_n, const char **pid, size_t *pid_n)
{
    cJSON *rw;
    int rc = reward_scan_rw(o, names, holistic, line, len, id, id_n, pid, pid_n, &rw);
    cJSON_Delete(rw);
    return rc;
}
