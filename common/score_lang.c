/* score_lang: the `language` kind, through libexttextcat (LibreOffice's
 * n-gram language guesser, with a C API and Debian's fingerprints for some
 * 160 languages): value = 1/k when lang= (en) is among the k languages it
 * finds as likely as the best (its 3% threshold, at most 5), else 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <textcat.h>

#include "score.h"

#define LANG_DB "/usr/share/libexttextcat/"

typedef struct {
    void *tc;
    char lang[32];
    candidate_t *cand;
} lang_state;

static int lang_init(void **st, const score_spec *s, const score_env *env, alarm_err *e)
{
    (void)env;
    const char *lang = score_spec_get(s, "lang"), *dir = score_spec_get(s, "db");
    lang_state *l = calloc(1, sizeof *l);
    if (!l)
        return err_set(e, "out of memory");
    *st = l;
    if (!lang)
        lang = "en";
    if (!*lang || strlen(lang) >= sizeof l->lang)
        return err_set(e, "scorer %s: lang=%s: expected a language code such as en", s->name,
                       lang);
    strcpy(l->lang, lang);
    char conf[4096];
    snprintf(conf, sizeof conf, "%s/fpdb.conf", dir ? dir : LANG_DB);
    /* checked first: libexttextcat says so on stderr itself */
    FILE *f = fopen(conf, "r");
    if (f)
        fclose(f);
    if (!f || !(l->tc = special_textcat_Init(conf, dir ? dir : LANG_DB)))
        return err_set(e, "scorer %s: %s: cannot load libexttextcat's fingerprints "
                       "(Debian: libexttextcat-data)", s->name, conf);
    if (!(l->cand = textcat_GetClassifyFullOutput(l->tc)))
        return err_set(e, "out of memory");
    return 0;
}

/* "en--utf8" names language "en". */
static int names(const char *cand, const char *lang)
{
    size_t n = strlen(lang);
    return !strncmp(cand, lang, n) && (cand[n] == '\0' || cand[n] == '-');
}

static int lang_score(void *st, const score_in *in, size_t n, score_out *out, alarm_err *e)
{
    (void)e;
    lang_state *l = st;
    for (size_t i = 0; i < n; i++) {
        int k = in[i].len ? textcat_ClassifyFull(l->tc, in[i].response, in[i].len, l->cand) : 0;
        double v = 0;
        for (int j = 0; j < k; j++)
            if (names(l->cand[j].name, l->lang))
                v = 1.0 / k;
        out[i].value = out[i].raw = v;
        out[i].has_raw = 1;
    }
    return 0;
}

static void lang_free(void *st)
{
    lang_state *l = st;
    if (l->cand)
        textcat_ReleaseClassifyFullOutput(l->tc, l->cand);
    if (l->tc)
        textcat_Done(l->tc);
    free(l);
}

static const char *const lang_keys[] = {"lang", "db", NULL};

const score_kind score_kind_language = {
    .name = "language", .keys = lang_keys, .about = "confidence the response is in lang=",
    .init = lang_init, .score = lang_score, .free = lang_free};
