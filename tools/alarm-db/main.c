/* alarm-db: the store's own tool (alarm-db(1), alarm-formats(5) section 8).
 * merge OUT IN...: shard stores into one (common/db_merge); check FILE...:
 * SQLite's and alarm's checks of a store (common/db_check). Problems found
 * by check are its output, one line each on stdout; messages go to stderr. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db_check.h"
#include "db_merge.h"
#include "opt.h"
#include "out.h"

static const tool_spec spec = {
    .name = "alarm-db",
    .id = TOOL_DB,
    .usage = "alarm-db merge OUT IN...\n"
             "       alarm-db check FILE...",
    .about = "Commands:\n"
             "  merge   merge the stores IN... into OUT (created when missing): runs\n"
             "          renumbered, a run or row OUT already holds not added again\n"
             "  check   integrity, foreign keys and alarm's invariants of each FILE;\n"
             "          each problem a line on standard output, exit 1 when any\n",
    .page = "alarm-db(1)",
};

/* An input that is the output itself would be read while written. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* A store this run created and could not fill goes again, with its WAL. */
static void remove_new(const char *path)
{
    static const char *const tails[] = {"", "-wal", "-shm"};
    char p[4096];
    for (size_t k = 0; k < 3; k++)
        if (snprintf(p, sizeof p, "%s%s", path, tails[k]) < (int)sizeof p)
            unlink(p);
}

static int merge(tool *t)
{
    if (t->nargs < 2)
        return tool_usage(t, "merge: expected OUT and at least one IN");
    const char *out = t->args[0];
    for (int k = 1; k < t->nargs; k++)
        if (same_file(out, t->args[k]))
            return tool_usage(t, "merge: %s is OUT itself", t->args[k]);
    struct stat sb;
    int existed = stat(out, &sb) == 0;
    db_store db;
    db_merge_stats st;
    alarm_err e;
    if (db_open(&db, out, &e) < 0)
        return tool_fail(t, e.msg);
    int rc = db_merge(&db, (const char *const *)t->args + 1, (size_t)t->nargs - 1, &st, &e);
    db_close(&db);
    if (rc < 0) {
        if (!existed)
            remove_new(out);
        return tool_fail(t, e.msg);
    }
    if (!t->quiet)
        tool_error(t, "%s: %lld runs added, %lld already there; %lld rows added", out,
                   st.runs_added, st.runs_known, st.rows_added);
    return TOOL_OK;
}

static void print_problem(void *user, const char *problem)
{
    printf("%s: %s\n", (const char *)user, problem);
}

static int check(tool *t)
{
    if (t->nargs < 1)
        return tool_usage(t, "check: expected FILE");
    int status = TOOL_OK;
    for (int k = 0; k < t->nargs; k++) {
        size_t n;
        alarm_err e;
        if (db_check(t->args[k], print_problem, t->args[k], &n, &e) < 0) {
            tool_error(t, "%s", e.msg);
            status = TOOL_FAIL;
        } else if (n) {
            tool_error(t, "%s: %zu problem%s", t->args[k], n, n == 1 ? "" : "s");
            status = TOOL_FAIL;
        } else if (!t->quiet) {
            tool_error(t, "%s: ok", t->args[k]);
        }
    }
    return status;
}

int main(int argc, char **argv)
{
    tool t;
    tool_init();
    int status = opt_parse(&t, &spec, NULL, argc, argv);
    if (status >= 0)
        return status;
    if (t.nargs == 0)
        return tool_usage(&t, "missing command");
    const char *cmd = t.args[0];
    t.args++, t.nargs--;
    if (!strcmp(cmd, "merge"))
        status = merge(&t);
    else if (!strcmp(cmd, "check"))
        status = check(&t);
    else
        status = tool_usage(&t, "unknown command '%s'", cmd);
    return tool_finish(&t, status);
}
