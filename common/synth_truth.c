/* synth_truth: what a scorer needs to judge a response, carried in the
 * prompt record's meta (alarm-formats(5) section 1) and read back from any
 * record that kept it: the asked name and relation, the facts the passages
 * state per entity, and the gold facts with their completeness weights. */
#include <stdio.h>
#include <string.h>

#include "synth.h"

cJSON *synth_truth_json(const synth_truth *t)
{
    cJSON *m = cJSON_CreateObject(), *ents = cJSON_CreateArray(), *gold = cJSON_CreateArray();
    cJSON_AddStringToObject(m, "asked", t->asked);
    cJSON_AddStringToObject(m, "kind", t->asked_kind == SYNTH_BAND ? "band" : "person");
    cJSON_AddStringToObject(m, "relation", synth_rel_name(t->rel));
    cJSON_AddBoolToObject(m, "ambiguous", t->ambiguous);
    for (int i = 0; i < t->n_ents; i++) {
        const synth_tent *x = &t->ents[i];
        cJSON *o = cJSON_CreateObject(), *facts = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", x->id);
        cJSON_AddStringToObject(o, "kind", x->kind == SYNTH_BAND ? "band" : "person");
        cJSON_AddStringToObject(o, "name", x->name);
        for (int r = 0; r < SR_AMBIGUOUS; r++)
            if (x->has[r])
                cJSON_AddStringToObject(facts, synth_rel_name(r), x->val[r]);
        cJSON_AddItemToObject(o, "facts", facts);
        cJSON_AddItemToArray(ents, o);
    }
    for (int i = 0; i < t->n_gold; i++) {
        const synth_gold *g = &t->gold[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "entity", t->ents[g->ent].id);
        cJSON_AddStringToObject(o, "relation", synth_rel_name(g->rel));
        cJSON_AddStringToObject(o, "value", g->val);
        cJSON_AddNumberToObject(o, "weight", g->weight);
        cJSON_AddItemToArray(gold, o);
    }
    cJSON_AddItemToObject(m, "entities", ents);
    cJSON_AddItemToObject(m, "gold", gold);
    return m;
}

/* A string field of o copied into out (cap SYNTH_VAL), else an error naming it. */
static int str(const cJSON *o, const char *key, char *out, const char *where, alarm_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= SYNTH_VAL)
        return err_set(e, "field \"%s.%s\": expected a string of under %d bytes", where, key,
                       SYNTH_VAL);
    snprintf(out, SYNTH_VAL, "%s", v->valuestring);
    return 0;
}

static int kind_read(const cJSON *o, int *kind, const char *where, alarm_err *e)
{
    char k[SYNTH_VAL];
    if (str(o, "kind", k, where, e) < 0)
        return -1;
    if (strcmp(k, "band") && strcmp(k, "person"))
        return err_set(e, "field \"%s.kind\": expected band or person, not '%s'", where, k);
    *kind = strcmp(k, "band") ? SYNTH_PERSON : SYNTH_BAND;
    return 0;
}

static int ent_read(synth_tent *x, const cJSON *o, const char *where, alarm_err *e)
{
    char id[SYNTH_VAL];
    memset(x, 0, sizeof *x);
    x->wid = -1;
    if (str(o, "id", id, where, e) < 0 || str(o, "name", x->name, where, e) < 0 ||
        kind_read(o, &x->kind, where, e) < 0)
        return -1;
    if (strlen(id) >= sizeof x->id)
        return err_set(e, "field \"%s.id\": longer than %zu bytes", where, sizeof x->id - 1);
    memcpy(x->id, id, strlen(id) + 1);
    const cJSON *facts = cJSON_GetObjectItemCaseSensitive(o, "facts"), *f;
    if (!cJSON_IsObject(facts))
        return err_set(e, "field \"%s.facts\": expected an object", where);
    cJSON_ArrayForEach(f, facts) {
        int r = synth_rel_parse(f->string);
        if (r < 0 || r == SR_AMBIGUOUS)
            return err_set(e, "field \"%s.facts\": unknown relation '%s'", where, f->string);
        if (str(facts, f->string, x->val[r], where, e) < 0)
            return -1;
        x->has[r] = 1;
    }
    return 0;
}

static int gold_read(synth_truth *t, synth_gold *g, const cJSON *o, const char *where,
                     alarm_err *e)
{
    char id[SYNTH_VAL], rel[SYNTH_VAL];
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "weight");
    if (str(o, "entity", id, where, e) < 0 || str(o, "relation", rel, where, e) < 0 ||
        str(o, "value", g->val, where, e) < 0)
        return -1;
    if ((g->rel = synth_rel_parse(rel)) < 0)
        return err_set(e, "field \"%s.relation\": unknown relation '%s'", where, rel);
    if (!cJSON_IsNumber(w) || w->valuedouble < 1 || w->valuedouble > 100)
        return err_set(e, "field \"%s.weight\": expected a number in 1..100", where);
    g->weight = (int)w->valuedouble;
    for (g->ent = 0; g->ent < t->n_ents; g->ent++)
        if (!strcmp(t->ents[g->ent].id, id))
            return 0;
    return err_set(e, "field \"%s.entity\": '%s' is not in meta.entities", where, id);
}

int synth_truth_read(synth_truth *t, const cJSON *meta, alarm_err *e)
{
    char rel[SYNTH_VAL], where[48];
    memset(t, 0, sizeof *t);
    if (!cJSON_IsObject(meta))
        return err_set(e, "field \"meta\": expected the object alarm-synth wrote");
    const cJSON *amb = cJSON_GetObjectItemCaseSensitive(meta, "ambiguous");
    if (str(meta, "asked", t->asked, "meta", e) < 0 || kind_read(meta, &t->asked_kind, "meta", e) < 0 ||
        str(meta, "relation", rel, "meta", e) < 0)
        return -1;
    if ((t->rel = synth_rel_parse(rel)) < 0 || t->rel == SR_AMBIGUOUS)
        return err_set(e, "field \"meta.relation\": unknown relation '%s'", rel);
    if (!cJSON_IsBool(amb))
        return err_set(e, "field \"meta.ambiguous\": expected true or false");
    t->ambiguous = cJSON_IsTrue(amb);
    const cJSON *ents = cJSON_GetObjectItemCaseSensitive(meta, "entities");
    const cJSON *gold = cJSON_GetObjectItemCaseSensitive(meta, "gold"), *o;
    if (!cJSON_IsArray(ents) || cJSON_GetArraySize(ents) > SYNTH_MAX_ENTS)
        return err_set(e, "field \"meta.entities\": expected an array of at most %d", SYNTH_MAX_ENTS);
    if (!cJSON_IsArray(gold) || cJSON_GetArraySize(gold) > SYNTH_MAX_GOLD)
        return err_set(e, "field \"meta.gold\": expected an array of at most %d", SYNTH_MAX_GOLD);
    cJSON_ArrayForEach(o, ents) {
        snprintf(where, sizeof where, "meta.entities[%d]", t->n_ents);
        if (ent_read(&t->ents[t->n_ents++], o, where, e) < 0)
            return -1;
    }
    cJSON_ArrayForEach(o, gold) {
        snprintf(where, sizeof where, "meta.gold[%d]", t->n_gold);
        if (gold_read(t, &t->gold[t->n_gold++], o, where, e) < 0)
            return -1;
    }
    return 0;
}
