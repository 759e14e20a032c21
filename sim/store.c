/*
 * store.c: the run directory (see store.h).
 *
 * Names follow Jepsen's store: STORE/<test name>/<basic ISO time>/ with STORE/latest and
 * STORE/<test name>/latest as relative symlinks, so the tree can be moved. Two runs started in
 * the same millisecond get "-1", "-2", ... rather than sharing a directory.
 * Depends on: sim, alloc. Used by: run, report, matrix, shrink_main.
 */
#include "store.h"
#include "eddy/alloc.h"
#include "eddy/clockctl.h"
#include "eddy/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int mkdir_p(const char *path, char *err, size_t elen)
{
    char tmp[1024];
    size_t n = strlen(path);
    if (n >= sizeof(tmp)) {
        snprintf(err, elen, "--store: path too long");
        return -ENAMETOOLONG;
    }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
            snprintf(err, elen, "cannot create %s: %s", tmp, strerror(errno));
            return -errno;
        }
        *p = '/';
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
        snprintf(err, elen, "cannot create %s: %s", tmp, strerror(errno));
        return -errno;
    }
    return 0;
}

static void relink(const char *target, const char *link)
{
    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s.tmp%d", link, (int)getpid());
    unlink(tmp);
    if (symlink(target, tmp) == 0 && rename(tmp, link) != 0)
        unlink(tmp);
}

int store_prepare(struct sim *s, char *err, size_t elen)
{
    const char *store = s->cfg->store;
    const char *wl = workload_name(s->cfg->workload);
    time_t secs = (time_t)(s->wall_start_ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char stamp[64];
    int k = (int)strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
    snprintf(stamp + k, sizeof(stamp) - (size_t)k, ".%03dZ",
             (int)(s->wall_start_ns / 1000000 % 1000));
    char base[1024];
    snprintf(base, sizeof(base), "%s/%s", store, wl);
    int rc = mkdir_p(base, err, elen);
    if (rc < 0)
        return rc;
    for (int attempt = 0; attempt < 100; attempt++) {
        char name[96];
        if (attempt)
            snprintf(name, sizeof(name), "%s-%d", stamp, attempt);
        else
            snprintf(name, sizeof(name), "%s", stamp);
        snprintf(s->run_dir, sizeof(s->run_dir), "%s/%s", base, name);
        if (mkdir(s->run_dir, 0755) == 0) {
            char logs[1100];
            snprintf(logs, sizeof(logs), "%s/node-logs", s->run_dir);
            if (mkdir(logs, 0755) < 0) {
                snprintf(err, elen, "cannot create %s: %s", logs, strerror(errno));
                return -errno;
            }
            /* Probe that files can really be written (a read-only or full disk fails here). */
            char probe[1100];
            snprintf(probe, sizeof(probe), "%s/.probe", s->run_dir);
            int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd < 0 || write(fd, "eddy\n", 5) != 5) {
                snprintf(err, elen, "cannot write in %s: %s", s->run_dir,
                         fd < 0 ? strerror(errno) : "short write (disk full?)");
                if (fd >= 0)
                    close(fd);
                return -EIO;
            }
            close(fd);
            unlink(probe);
            char link[1100], target[1100];
            snprintf(link, sizeof(link), "%s/latest", base);
            relink(name, link);
            snprintf(link, sizeof(link), "%s/latest", store);
            snprintf(target, sizeof(target), "%s/%s", wl, name);
            relink(target, link);
            return 0;
        }
        if (errno != EEXIST) {
            snprintf(err, elen, "cannot create %s: %s", s->run_dir, strerror(errno));
            return -errno;
        }
    }
    snprintf(err, elen, "cannot find a free run directory under %s", base);
    return -EEXIST;
}

const char *store_path(const struct sim *s, const char *name)
{
    static char path[1200];
    snprintf(path, sizeof(path), "%s/%s", s->run_dir, name);
    return path;
}

void store_node_log_path(const struct sim *s, const struct sim_node *n, char *out, size_t cap)
{
    char safe[128];
    size_t j = 0;
    for (const char *p = n->name; *p && j + 1 < sizeof(safe); p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        safe[j] = ok && !(j == 0 && c == '.') ? c : '_';
        j++;
    }
    safe[j] = '\0';
    snprintf(out, cap, "%s/node-logs/%s.log", s->run_dir, safe);
}

const char *store_find_clock_lib(void)
{
    static char path[PATH_MAX + 64];
    const char *env = getenv("EDDY_CLOCK_LIB");
    if (env && *env)
        return access(env, R_OK) == 0 ? env : NULL;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *dir = dirname(exe);
    static const char *const rel[] = {"/../lib/" CLOCKCTL_LIB_NAME,
                                      "/../lib/eddy/" CLOCKCTL_LIB_NAME};
    for (size_t i = 0; i < ARRAY_LEN(rel); i++) {
        snprintf(path, sizeof(path), "%s%s", dir, rel[i]);
        char *real = realpath(path, NULL);
        if (real) {
            snprintf(path, sizeof(path), "%s", real);
            free(real);
            return path;
        }
    }
    return NULL;
}

char *store_read_text(const char *path, size_t max)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || (size_t)st.st_size > max) {
        fclose(f);
        return NULL;
    }
    char *text = xmalloc((size_t)st.st_size + 1);
    size_t n = fread(text, 1, (size_t)st.st_size, f);
    text[n] = '\0';
    fclose(f);
    return text;
}
