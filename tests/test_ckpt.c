/* Unit tests for ckpt: a commit leaves exactly the files written and nothing
 * beside them, an abort leaves nothing, an existing checkpoint is replaced
 * whole (by exchange and by the two-rename fallback), failures leave the old
 * checkpoint intact, and an interrupted fallback is recovered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt.h"
#include "lib/check.h"
#include "lib/tmpdir.h"
#include "st.h"

typedef struct {
    char root[4096];            /* scratch parent directory */
    char final[4200];           /* root/ckpt */
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    tmpdir_make(f->root, sizeof f->root);
    snprintf(f->final, sizeof f->final, "%s/ckpt", f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    ckpt_debug_no_exchange(0);
    tmpdir_remove(f->root);
    free(f);
    return 0;
}

static void assert_file(const char *dir, const char *name, const char *want)
{
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    size_t len;
    char *got = tmpdir_read(p, &len);
    if (!got)
        fail_msg("%s missing", p);
    if (len != strlen(want) || memcmp(got, want, len) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", p, got, want);
    free(got);
}

/* An old checkpoint at f->final: config.json says "old", plus extra.txt. */
static void make_old(const fx *f)
{
    char p[4400];
    assert_int_equal(mkdir(f->final, 0755), 0);
    snprintf(p, sizeof p, "%s/config.json", f->final);
    tmpdir_write(p, "old", 3);
    snprintf(p, sizeof p, "%s/extra.txt", f->final);
    tmpdir_write(p, "x", 1);
}

static void commit_leaves_exactly_the_files(void **state)
{
    fx *f = *state;
    ckpt_writer w;
    alarm_err e;
    char slash[4300];
    snprintf(slash, sizeof slash, "%s//", f->final); /* trailing slashes are fine */
    assert_int_equal(ckpt_begin(&w, slash, &e), 0);
    assert_int_equal(tmpdir_count(f->root), 1); /* the temporary, beside the final name */
    assert_int_equal(ckpt_write_file(&w, "config.json", "{\"n\":1}", 7, &e), 0);
    char p[4400];
    float v[6] = {1, 2, 3, 4, 5, 6};
    st_out o[] = {{"wte.weight", v, 2, {2, 3}}};
    assert_non_null(ckpt_path(&w, "model.safetensors", p, sizeof p));
    assert_int_equal(st_write(p, o, 1, ST_BF16, NULL, &e), 0);
    assert_int_equal(ckpt_copy_file(&w, test_path("fixtures/st/expected.json"), "tokenizer.json",
                                    &e), 0);
    assert_null(ckpt_path(&w, "x", p, 8));
    assert_int_equal(ckpt_commit(&w, &e), 0);
    assert_int_equal(w.tmp_dir[0], '\0');

    assert_int_equal(tmpdir_count(f->root), 1);
    assert_int_equal(tmpdir_count(f->final), 3);
    assert_file(f->final, "config.json", "{\"n\":1}");
    size_t a, b;
    char *want = tmpdir_read(test_path("fixtures/st/expected.json"), &a);
    snprintf(p, sizeof p, "%s/tokenizer.json", f->final);
    char *got = tmpdir_read(p, &b);
    assert_true(a == b && memcmp(want, got, a) == 0);
    free(want);
    free(got);
    struct stat sb;
    assert_int_equal(stat(f->final, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0755);
    st_set *s;
    assert_int_equal(st_open(&s, f->final, &e), 0);
    float r[6];
    assert_int_equal(st_to_f32(st_find(s, "wte.weight"), r, &e), 0);
    check_close("wte", r, v, 6, 0, 0);
    st_close(s);
    ckpt_abort(&w); /* after a commit: nothing to do */
    assert_int_equal(tmpdir_count(f->final), 3);
}

static void creates_missing_parents(void **state)
{
    fx *f = *state;
    char deep[4400], p[4500];
    snprintf(deep, sizeof deep, "%s/runs/it3/policy", f->root);
    ckpt_writer w;
    alarm_err e;
    assert_int_equal(ckpt_begin(&w, deep, &e), 0);
    assert_int_equal(ckpt_write_file(&w, "config.json", "{}", 2, &e), 0);
    assert_int_equal(ckpt_commit(&w, &e), 0);
    assert_file(deep, "config.json", "{}");
    snprintf(p, sizeof p, "%s/runs/it3", f->root);
    assert_int_equal(tmpdir_count(p), 1);
    /* A parent that is a file cannot be made into a directory. */
    snprintf(p, sizeof p, "%s/file", f->root);
    tmpdir_write(p, "x", 1);
    snprintf(deep, sizeof deep, "%s/file/sub/policy", f->root);
    assert_int_equal(ckpt_begin(&w, deep, &e), -1);
    assert_non_null(strstr(e.msg, "cannot create directory"));
}

static void abort_leaves_nothing(void **state)
{
    fx *f = *state;
    ckpt_writer w;
    alarm_err e;
    assert_int_equal(ckpt_begin(&w, f->final, &e), 0);
    assert_int_equal(ckpt_write_file(&w, "config.json", "{}", 2, &e), 0);
    ckpt_abort(&w);
    ckpt_abort(&w);
    assert_int_equal(tmpdir_count(f->root), 0);
    assert_int_equal(ckpt_commit(&w, &e), -1); /* nothing left to commit */
    assert_non_null(strstr(e.msg, "no checkpoint is being written"));
    assert_int_equal(ckpt_write_file(&w, "config.json", "{}", 2, &e), -1);
}

static void replace(fx *f, int fallback)
{
    ckpt_debug_no_exchange(fallback);
    make_old(f);
    ckpt_writer w;
    alarm_err e;
    assert_int_equal(ckpt_begin(&w, f->final, &e), 0);
    assert_file(f->final, "config.json", "old"); /* untouched until the commit */
    assert_int_equal(ckpt_write_file(&w, "config.json", "new", 3, &e), 0);
    assert_int_equal(ckpt_write_file(&w, "model.safetensors", "m", 1, &e), 0);
    assert_int_equal(ckpt_commit(&w, &e), 0);
    assert_int_equal(tmpdir_count(f->root), 1); /* no backup, no temporary */
    assert_int_equal(tmpdir_count(f->final), 2); /* extra.txt went with the old one */
    assert_file(f->final, "config.json", "new");
    assert_file(f->final, "model.safetensors", "m");
}

static void replaces_existing_by_exchange(void **state)
{
    replace(*state, 0);
}

static void replaces_existing_by_two_renames(void **state)
{
    replace(*state, 1);
}

static void failures_leave_old_intact(void **state)
{
    fx *f = *state;
    make_old(f);
    ckpt_writer w;
    alarm_err e;
    char p[4400];
    for (int fallback = 0; fallback < 2; fallback++) {
        ckpt_debug_no_exchange(fallback);
        /* A copy that fails (missing source), then abort. */
        assert_int_equal(ckpt_begin(&w, f->final, &e), 0);
        assert_int_equal(ckpt_write_file(&w, "config.json", "new", 3, &e), 0);
        snprintf(p, sizeof p, "%s/no-tokenizer.json", f->root);
        assert_int_equal(ckpt_copy_file(&w, p, "tokenizer.json", &e), -1);
        assert_non_null(strstr(e.msg, "no-tokenizer.json"));
        assert_int_equal(ckpt_copy_file(&w, f->root, "tokenizer.json", &e), -1);
        assert_int_equal(ckpt_write_file(&w, "../escape", "x", 1, &e), -1);
        assert_int_equal(ckpt_copy_file(&w, test_path("fixtures/st/expected.json"), "a/b", &e), -1);
        ckpt_abort(&w);
        assert_int_equal(tmpdir_count(f->root), 1);
        assert_file(f->final, "config.json", "old");

        /* The temporary directory vanishes before the commit (disk trouble). */
        assert_int_equal(ckpt_begin(&w, f->final, &e), 0);
        assert_int_equal(ckpt_write_file(&w, "config.json", "new", 3, &e), 0);
        tmpdir_remove(w.tmp_dir);
        assert_int_equal(ckpt_commit(&w, &e), -1);
        assert_non_null(strstr(e.msg, f->final));
        ckpt_abort(&w);
        assert_file(f->final, "config.json", "old");
        assert_int_equal(tmpdir_count(f->final), 2);
        assert_int_equal(tmpdir_count(f->root), 1);
    }
    /* The disk fills up in the middle of the model (a file-size limit makes
     * writes fail with EFBIG even for root). */
    ckpt_debug_no_exchange(0);
    assert_int_equal(ckpt_begin(&w, f->final, &e), 0);
    assert_int_equal(ckpt_write_file(&w, "config.json", "new", 3, &e), 0);
    size_t n = (size_t)1 << 20; /* 4 MB of F32 against a 1 MB limit */
    float *big = calloc(n, sizeof *big);
    char src[4400];
    snprintf(src, sizeof src, "%s/big-tokenizer.json", f->root);
    tmpdir_write(src, big, 2 * n);
    st_out o[] = {{"wte.weight", big, 1, {(int64_t)n}}};
    struct rlimit old_lim, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
    lim = old_lim;
    lim.rlim_cur = (rlim_t)1 << 20;
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = st_write(ckpt_path(&w, "model.safetensors", p, sizeof p), o, 1, ST_F32, NULL, &e);
    char msg[sizeof e.msg];
    memcpy(msg, e.msg, sizeof msg);
    int rc2 = ckpt_copy_file(&w, src, "tokenizer.json", &e);
    setrlimit(RLIMIT_FSIZE, &old_lim);
    signal(SIGXFSZ, old_sig);
    free(big);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(msg, "File too large"));
    assert_int_equal(rc2, -1);
    assert_non_null(strstr(e.msg, "File too large"));
    assert_int_equal(tmpdir_count(w.tmp_dir), 1); /* config.json only: no partial files */
    ckpt_abort(&w);
    unlink(src);
    assert_int_equal(tmpdir_count(f->root), 1);
    assert_file(f->final, "config.json", "old");
    assert_int_equal(tmpdir_count(f->final), 2);

    /* An unwritable parent (only meaningful when not root: root writes anyway). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(f->root, 0555), 0);
        assert_int_equal(ckpt_begin(&w, f->final, &e), -1);
        assert_non_null(strstr(e.msg, "temporary directory"));
        assert_int_equal(chmod(f->root, 0755), 0);
        assert_file(f->final, "config.json", "old");
    }
}

static void refuses_what_is_not_a_checkpoint(void **state)
{
    fx *f = *state;
    ckpt_writer w;
    alarm_err e;
    char p[4400];
    assert_int_equal(mkdir(f->final, 0755), 0);
    snprintf(p, sizeof p, "%s/notes.txt", f->final);
    tmpdir_write(p, "mine", 4);
    assert_int_equal(ckpt_begin(&w, f->final, &e), -1);
    assert_non_null(strstr(e.msg, "does not look like a checkpoint"));
    assert_file(f->final, "notes.txt", "mine");
    assert_int_equal(ckpt_begin(&w, p, &e), -1); /* a regular file */
    assert_non_null(strstr(e.msg, "not a directory"));
    assert_int_equal(ckpt_begin(&w, "..", &e), -1);
    assert_int_equal(ckpt_begin(&w, "/", &e), -1);
    assert_int_equal(tmpdir_count(f->root), 1);
    /* An empty directory may be filled. */
    tmpdir_remove(p);
    assert_int_equal(ckpt_begin(&w, f->final, &e), 0);
    assert_int_equal(ckpt_write_file(&w, "config.json", "{}", 2, &e), 0);
    assert_int_equal(ckpt_commit(&w, &e), 0);
    assert_file(f->final, "config.json", "{}");
}

/* A crash between the fallback's two renames leaves FINAL missing and the old
 * checkpoint at FINAL.ckpt-old; one after both leaves a stale backup. */
static void recovers_interrupted_replacement(void **state)
{
    fx *f = *state;
    char old[4400];
    snprintf(old, sizeof old, "%s.ckpt-old", f->final);
    make_old(f);
    assert_int_equal(rename(f->final, old), 0);
    ckpt_writer w;
    alarm_err e;
    assert_int_equal(ckpt_begin(&w, f->final, &e), 0);
    assert_file(f->final, "config.json", "old");
    ckpt_abort(&w);
    assert_int_equal(tmpdir_count(f->root), 1);

    assert_int_equal(mkdir(old, 0755), 0);
    tmpdir_write(strcat(old, "/config.json"), "stale", 5);
    snprintf(old, sizeof old, "%s.ckpt-old", f->final);
    assert_int_equal(ckpt_recover(f->final, &e), 0);
    assert_int_equal(tmpdir_count(f->root), 1);
    assert_file(f->final, "config.json", "old");
    assert_int_equal(ckpt_recover(f->final, &e), 0); /* nothing to do */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(commit_leaves_exactly_the_files, setup, teardown),
        cmocka_unit_test_setup_teardown(abort_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(creates_missing_parents, setup, teardown),
        cmocka_unit_test_setup_teardown(replaces_existing_by_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(replaces_existing_by_two_renames, setup, teardown),
        cmocka_unit_test_setup_teardown(failures_leave_old_intact, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_what_is_not_a_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(recovers_interrupted_replacement, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
