/* opt_lora: --lora r=R,alpha=A,dropout=D,targets=NAME,... (one shared
 * option of the trainers). Items are key=value; the names after targets=
 * run to the next key. "default" alone takes ALaRM's r 16, alpha 32,
 * dropout 0.05 on the architecture's default targets. */
#include <stdio.h>
#include <string.h>

#include "opt.h"
#include "tfm_lora_ckpt.h"

static int item(tfm_lora_opts *o, const char *s, size_t len, int *in_targets, alarm_err *e)
{
    char buf[256];
    if (len >= sizeof buf)
        return err_set(e, "--lora: item \"%.*s...\" too long", 20, s);
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *eq = strchr(buf, '=');
    if (!eq && *in_targets) {
        size_t k = strlen(o->targets);
        if (k + len + 2 > sizeof o->targets)
            return err_set(e, "--lora: too many targets");
        if (k)
            o->targets[k++] = ',';
        memcpy(o->targets + k, buf, len + 1);
        return 0;
    }
    if (!eq)
        return err_set(e, "--lora: \"%s\" is not KEY=VALUE (keys r, alpha, dropout, targets)", buf);
    *eq = '\0';
    const char *v = eq + 1;
    *in_targets = !strcmp(buf, "targets");
    long r;
    if (!strcmp(buf, "r"))
        return opt_parse_long("--lora r", v, 1, 4096, &r, e) ? -1 : (o->r = (int)r, 0);
    if (!strcmp(buf, "alpha"))
        return opt_parse_double("--lora alpha", v, 1e-6, 1e6, &o->alpha, e);
    if (!strcmp(buf, "dropout"))
        return opt_parse_double("--lora dropout", v, 0, 0.999, &o->dropout, e);
    if (*in_targets) {
        if (!*v)
            return err_set(e, "--lora: targets= names no module");
        o->targets[0] = '\0';
        return item(o, v, strlen(v), in_targets, e);
    }
    return err_set(e, "--lora: unknown key \"%s\" (keys r, alpha, dropout, targets)", buf);
}

int opt_parse_lora(void *p, const char *v, alarm_err *e)
{
    tool *t = p;
    tfm_lora_opts *o = &t->lora;
    *o = (tfm_lora_opts){.r = 16, .alpha = 32, .dropout = 0.05};
    t->lora_on = 1;
    if (!strcmp(v, "default"))
        return 0;
    int in_targets = 0;
    for (const char *s = v;;) {
        size_t len = strcspn(s, ",");
        if (!len)
            return err_set(e, "--lora: empty item in \"%s\"", v);
        if (item(o, s, len, &in_targets, e) < 0)
            return -1;
        if (!s[len])
            return 0;
        s += len + 1;
    }
}

const char *opt_lora_misuse(const tool *t, const char *dir, char *buf, size_t n)
{
    tfm_config c;
    alarm_err e;
    unsigned bits;
    /* an unreadable config is for the load to report; an adapter trains its own */
    if (!t->lora_on || !dir || tfm_lora_is_adapter_dir(dir) || tfm_config_load(&c, dir, &e) < 0)
        return NULL;
    if (tfm_lora_targets(&c, t->lora.targets, &bits, &e) == 0)
        return NULL;
    snprintf(buf, n, "--lora: %s (%s)", e.msg, dir);
    return buf;
}
