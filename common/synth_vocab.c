/* synth_vocab: the world's closed vocabulary: the word classes its slots are
 * filled from (disjoint, so a sentence parses one way only), the relation
 * names used in records, and the lookup from a word back to its class. */
#include <stdlib.h>
#include <string.h>

#include "synth_impl.h"

static const char *const adj[] = {
    "bitter", "silver", "hollow", "crimson", "quiet", "wild", "golden", "broken", "electric",
    "velvet", "frozen", "burning", "lonely", "midnight", "neon", "rusty", "savage", "gentle",
    "cosmic", "faded", "iron", "lucky", "pale", "restless", "static"};
static const char *const noun[] = {
    "wolves", "echoes", "ravens", "shadows", "pilots", "rivers", "engines", "tigers", "ghosts",
    "rebels", "saints", "giants", "lanterns", "comets", "drifters", "sparrows", "vipers",
    "hunters", "dreamers", "strangers", "mirrors", "thieves", "wheels", "owls", "monks"};
static const char *const first[] = {
    "jack", "david", "anna", "maria", "peter", "laura", "tom", "emma", "paul", "sarah",
    "john", "lucy", "mark", "nina", "sam", "kate", "alex", "rosa", "ben", "clara",
    "leo", "ida", "max", "vera", "hugo", "ella", "oscar", "mia", "felix", "nora"};
static const char *const last[] = {
    "novak", "smith", "berg", "costa", "reed", "moreau", "fischer", "lang", "ortiz", "kowal",
    "hale", "stone", "dunn", "price", "marsh", "woods", "quinn", "fox", "pike", "hart",
    "grant", "shaw", "wolfe", "nash", "cole", "ward", "frost", "lowe", "banks", "drake"};
static const char *const town[] = {
    "avondale", "brixham", "calder", "dunmore", "elmfield", "fenwick", "glenrock", "harlow",
    "ironbridge", "jarrow", "kelso", "larkhill", "milford", "norwood", "oakham", "pinehurst",
    "quarry", "redcliff", "saltburn", "thornby", "umber", "valemont", "westport", "yarrow",
    "ashby", "bramley", "corbridge", "denholm", "eastleigh", "fairmont"};
static const char *const genre[] = {
    "rock", "jazz", "soul", "punk", "blues", "folk", "metal", "reggae", "funk", "techno"};
static const char *const label[] = {
    "apex", "harbor", "orbit", "summit", "beacon", "granite", "meridian", "lotus", "pioneer",
    "zenith", "cobalt", "vertex"};
static const char *const instr[] = {
    "guitar", "drums", "bass", "piano", "violin", "saxophone", "trumpet", "cello"};
static const char *const album1[] = {
    "blue", "distant", "endless", "hidden", "northern", "open", "paper", "scarlet", "second",
    "silent", "simple", "sudden", "sweet", "tender", "twisted", "urban", "violet", "winter",
    "yellow", "young"};
static const char *const album2[] = {
    "dawn", "harvest", "horizon", "island", "journey", "kingdom", "letters", "machine",
    "memory", "motion", "ocean", "parade", "promise", "season", "signal", "skyline", "summer",
    "thunder", "voyage", "window"};

#define N(a) ((int)(sizeof a / sizeof a[0]))
const char *const *const synth_words[SC_N] = {adj, noun, first, last, town, genre,
                                               label, instr, album1, album2};
const int synth_nwords[SC_N] = {N(adj), N(noun), N(first), N(last), N(town), N(genre),
                                N(label), N(instr), N(album1), N(album2)};

static const char *const rel_names[SR_N] = {
    "formed", "origin", "genre", "founder", "album", "label",
    "born_year", "born_town", "instrument", "ambiguous"};

const char *synth_rel_name(synth_rel r)
{
    return r < SR_N ? rel_names[r] : "?";
}

int synth_rel_parse(const char *s)
{
    for (int r = 0; r < SR_N; r++)
        if (!strcmp(s, rel_names[r]))
            return r;
    return -1;
}

int synth_rel_kind(synth_rel r)
{
    return r >= SR_BORN_YEAR && r <= SR_INSTRUMENT ? SYNTH_PERSON : SYNTH_BAND;
}

int synth_word_class(const char *w)
{
    if (strlen(w) == 4 && w[0] >= '1' && w[0] <= '2') {
        char *end;
        long y = strtol(w, &end, 10);
        if (!*end && y >= SYNTH_YEAR0 && y < SYNTH_YEAR0 + SYNTH_NYEARS)
            return SC_N + 1;
    }
    for (int c = 0; c < SC_N; c++)
        for (int i = 0; i < synth_nwords[c]; i++)
            if (!strcmp(w, synth_words[c][i]))
                return c;
    return -1;
}

void synth_shuffle(int *v, int n, uint64_t *rng)
{
    for (int i = n - 1; i > 0; i--) {
        int j = synth_pick(rng, i + 1), t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}
