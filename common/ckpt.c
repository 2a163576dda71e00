/* ckpt: atomic checkpoint directories (see ckpt.h for the guarantees).
 * Linux: an existing checkpoint is swapped with the new one by
 * renameat2(RENAME_EXCHANGE), so the final name always holds a complete
 * checkpoint. Where the file system cannot exchange, the old one is first
 * renamed to FINAL.ckpt-old, and ckpt_begin/ckpt_recover put it back if a
 * crash came between the two renames. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ckpt.h"
#include "fsio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CKPT_TMP_SUFFIX ".ckpt-tmp-XXXXXX"
#define CKPT_OLD_SUFFIX ".ckpt-old"

static int no_exchange; /* tests force the two-rename path */

void ckpt_debug_no_exchange(int on)
{
    no_exchange = on;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes a tree without following symlinks; missing is fine. */
static int remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) < 0)
        return errno == ENOENT ? 0 : -1;
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static _Thread_local int sync_errno;
static _Thread_local char sync_path[4096];

static int sync_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag != FTW_F && flag != FTW_DP)
        return 0; /* symlinks and the like: nothing of ours to make durable */
    int fd = open(path, O_RDONLY | O_CLOEXEC | (flag == FTW_DP ? O_DIRECTORY : 0));
    if (fd < 0 || fsync(fd) < 0) {
        sync_errno = errno;
        snprintf(sync_path, sizeof sync_path, "%s", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* fsync of every file and directory under path, directories after their contents. */
static int sync_tree(const char *path, alarm_err *e)
{
    sync_errno = 0;
    int rc = nftw(path, sync_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (rc == 0)
        return 0;
    if (sync_errno)
        return err_set(e, "%s: fsync: %s", sync_path, strerror(sync_errno));
    return err_set(e, "%s: %s", path, strerror(errno));
}

static int is_dir(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* An existing directory we may replace: empty, or holding a model. Anything
 * else (a home directory given by mistake) is refused rather than deleted. */
static int replaceable(const char *dir, alarm_err *e)
{
    struct stat sb;
    if (lstat(dir, &sb) < 0)
        return errno == ENOENT ? 0 : err_set(e, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return err_set(e, "%s: exists and is not a directory", dir);
    DIR *d = opendir(dir);
    if (!d)
        return err_set(e, "%s: %s", dir, strerror(errno));
    int entries = 0, model = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        entries++;
        if (strcmp(de->d_name, "config.json") == 0 || strcmp(de->d_name, "model.safetensors") == 0 ||
            strcmp(de->d_name, "model.safetensors.index.json") == 0 ||
            strcmp(de->d_name, "adapter_config.json") == 0)
            model = 1;
    }
    closedir(d);
    if (entries && !model)
        return err_set(e, "%s: exists and does not look like a checkpoint (no config.json or "
                          "model.safetensors); refusing to replace it", dir);
    return 0;
}

int ckpt_recover(const char *final_dir, alarm_err *e)
{
    char old[4096 + 16];
    snprintf(old, sizeof old, "%s%s", final_dir, CKPT_OLD_SUFFIX);
    if (!is_dir(old))
        return 0;
    struct stat sb;
    if (lstat(final_dir, &sb) == 0) /* the new one made it: the backup is stale */
        return remove_tree(old) < 0 ? err_set(e, "%s: %s", old, strerror(errno)) : 0;
    if (rename(old, final_dir) < 0)
        return err_set(e, "%s: cannot restore from %s: %s", final_dir, old, strerror(errno));
    fsio_sync_parent(final_dir);
    return 0;
}

/* mkdir -p of the directory that will hold `path` (runs/it3 for runs/it3/policy). */
static int make_parents(const char *path, alarm_err *e)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    char *slash = strrchr(p, '/');
    if (!slash || slash == p)
        return 0;
    *slash = '\0';
    for (char *c = p + 1; ; c++) {
        if (*c != '/' && *c != '\0')
            continue;
        char keep = *c;
        *c = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return err_set(e, "%s: cannot create directory %s: %s", path, p, strerror(errno));
        if (!keep)
            return 0;
        *c = keep;
    }
}

int ckpt_begin(ckpt_writer *w, const char *final_dir, alarm_err *e)
{
    memset(w, 0, sizeof *w);
    size_t n = strlen(final_dir);
    while (n > 1 && final_dir[n - 1] == '/')
        n--;
    if (n + sizeof CKPT_TMP_SUFFIX + sizeof CKPT_OLD_SUFFIX >= sizeof w->final_dir)
        return err_set(e, "%s: path too long", final_dir);
    memcpy(w->final_dir, final_dir, n);
    w->final_dir[n] = '\0';
    const char *base = strrchr(w->final_dir, '/');
    base = base ? base + 1 : w->final_dir;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return err_set(e, "%s: a checkpoint needs a directory name of its own", final_dir);
    if (make_parents(w->final_dir, e) < 0 || ckpt_recover(w->final_dir, e) < 0 ||
        replaceable(w->final_dir, e) < 0)
        return -1;
    int k = snprintf(w->tmp_dir, sizeof w->tmp_dir, "%s%s", w->final_dir, CKPT_TMP_SUFFIX);
    if (k < 0 || (size_t)k >= sizeof w->tmp_dir || !mkdtemp(w->tmp_dir)) {
        int en = errno;
        w->tmp_dir[0] = '\0';
        return err_set(e, "%s: cannot create a temporary directory beside it: %s", final_dir,
                       strerror(en));
    }
    chmod(w->tmp_dir, 0755); /* mkdtemp makes it 0700; a checkpoint is meant to be shared */
    return 0;
}

const char *ckpt_path(const ckpt_writer *w, const char *name, char *buf, size_t n)
{
    int k = snprintf(buf, n, "%s/%s", w->tmp_dir, name);
    return k >= 0 && (size_t)k < n ? buf : NULL;
}

static int valid_name(const char *name)
{
    return name[0] && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* Opens `name` in the temporary directory for writing (created or truncated). */
static int open_member(const ckpt_writer *w, const char *name, char *path, size_t n,
                       alarm_err *e)
{
    if (!w->tmp_dir[0])
        return err_set(e, "%s: no checkpoint is being written", name);
    if (!valid_name(name) || !ckpt_path(w, name, path, n))
        return err_set(e, "%s: not a file name for a checkpoint", name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    return fd;
}

int ckpt_write_file(const ckpt_writer *w, const char *name, const void *data, size_t len,
                    alarm_err *e)
{
    char path[4200];
    int fd = open_member(w, name, path, sizeof path, e);
    if (fd < 0)
        return -1;
    int ok = fsio_write_all(fd, data, len) == 0;
    int en = errno;
    if (close(fd) < 0 && ok) {
        ok = 0;
        en = errno;
    }
    return ok ? 0 : err_set(e, "%s: write: %s", path, strerror(en));
}

int ckpt_copy_file(const ckpt_writer *w, const char *src, const char *name, alarm_err *e)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return err_set(e, "%s: %s", src, strerror(errno));
    struct stat sb;
    if (fstat(in, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(in);
        return err_set(e, "%s: not a regular file", src);
    }
    char path[4200];
    int out = open_member(w, name, path, sizeof path, e);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[1 << 16];
    ssize_t k;
    int rc = 0;
    while (rc == 0 && (k = read(in, buf, sizeof buf)) != 0) {
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            rc = err_set(e, "%s: read: %s", src, strerror(errno));
        else if (fsio_write_all(out, buf, (size_t)k) < 0)
            rc = err_set(e, "%s: write: %s", path, strerror(errno));
    }
    close(in);
    if (close(out) < 0 && rc == 0)
        rc = err_set(e, "%s: close: %s", path, strerror(errno));
    if (rc < 0)
        unlink(path);
    return rc;
}

/* Puts the new directory in place of an existing one. */
static int replace_existing(ckpt_writer *w, alarm_err *e)
{
    if (!no_exchange &&
        renameat2(AT_FDCWD, w->tmp_dir, AT_FDCWD, w->final_dir, RENAME_EXCHANGE) == 0) {
        fsio_sync_parent(w->final_dir);
        remove_tree(w->tmp_dir); /* now the old checkpoint; a leftover is harmless */
        return 0;
    }
    if (!no_exchange && errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return err_set(e, "%s: cannot replace: %s", w->final_dir, strerror(errno));
    char old[sizeof w->final_dir + 16];
    snprintf(old, sizeof old, "%s%s", w->final_dir, CKPT_OLD_SUFFIX);
    if (remove_tree(old) < 0)
        return err_set(e, "%s: %s", old, strerror(errno));
    if (rename(w->final_dir, old) < 0)
        return err_set(e, "%s: cannot move the old checkpoint aside: %s", w->final_dir,
                       strerror(errno));
    if (rename(w->tmp_dir, w->final_dir) < 0) {
        int en = errno;
        rename(old, w->final_dir); /* put the old one back */
        return err_set(e, "%s: %s", w->final_dir, strerror(en));
    }
    fsio_sync_parent(w->final_dir);
    remove_tree(old);
    return 0;
}

int ckpt_commit(ckpt_writer *w, alarm_err *e)
{
    if (!w->tmp_dir[0])
        return err_set(e, "%s: no checkpoint is being written", w->final_dir);
    if (sync_tree(w->tmp_dir, e) < 0)
        return err_prefix(e, "%s", w->final_dir);
    if (replaceable(w->final_dir, e) < 0)
        return -1;
    int rc;
    if (is_dir(w->final_dir)) {
        rc = replace_existing(w, e);
    } else if (rename(w->tmp_dir, w->final_dir) < 0) {
        rc = err_set(e, "%s: %s", w->final_dir, strerror(errno));
    } else {
        fsio_sync_parent(w->final_dir);
        rc = 0;
    }
    if (rc == 0)
        w->tmp_dir[0] = '\0';
    return rc;
}

void ckpt_abort(ckpt_writer *w)
{
    if (w->tmp_dir[0])
        remove_tree(w->tmp_dir);
    w->tmp_dir[0] = '\0';
}
