/*
 * contain.c: the subreaper, the run's cgroup and the kill-and-reap loop (see contain.h).
 *
 * The cgroup v2 hierarchy is found in /proc/self/mountinfo (it is /sys/fs/cgroup on most
 * systems, /sys/fs/cgroup/unified on hybrid ones) and eddy's own place in it in
 * /proc/self/cgroup. Two descriptors are opened once: the cgroup's cgroup.procs, which a child
 * writes "0" to before exec, and its cgroup.kill (Linux 5.14), which the end of the run and the
 * emergency path write "1" to. Before relying on it, a throwaway child checks that moving a
 * process there actually works.
 * Depends on: libc. Used by: proc, run, report.
 */
#include "contain.h"
#include "eddy/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int procs_fd = -1, kill_fd = -1;
static bool cgroup_on; /* the run has its cgroup (it stays "on" once removed, for the results) */
static char cgroup_dir[PATH_MAX];
static char why_not[256] = "contain_setup was not called";

const char *contain_cgroup(void)
{
    return cgroup_on ? cgroup_dir : NULL;
}

const char *contain_why_not(void)
{
    return cgroup_on ? "" : why_not;
}

void contain_enter_child(void)
{
    if (procs_fd >= 0 && write(procs_fd, "0", 1) < 0)
        return; /* left outside: the /proc rounds still find it */
}

void contain_kill_emergency(void)
{
    if (kill_fd >= 0 && write(kill_fd, "1", 1) < 0)
        return;
}

/* ==== Finding and making the cgroup ==== */

/* The mount point of the cgroup v2 hierarchy, from mountinfo lines "ID PARENT MAJ:MIN ROOT
 * MOUNTPOINT OPTIONS... - FSTYPE SOURCE SUPER". Octal escapes (\040) are undone. */
static bool cgroup2_mount(char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        char *sep = strstr(line, " - cgroup2 ");
        char mnt[PATH_MAX];
        if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
            continue;
        size_t o = 0;
        for (const char *p = mnt; *p && o + 1 < cap; o++) {
            if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] && p[3]) {
                out[o] = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                p += 4;
            } else {
                out[o] = *p++;
            }
        }
        out[o] = '\0';
        found = true;
    }
    fclose(f);
    return found;
}

/* This process's cgroup v2 path ("0::PATH" in /proc/self/cgroup). */
static bool own_cgroup(char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "0::", 3) != 0)
            continue;
        line[strcspn(line, "\n")] = '\0';
        found = snprintf(out, cap, "%s", line + 3) < (int)cap;
    }
    fclose(f);
    return found;
}

/* Kills what is left in the eddy-N cgroups beside ours whose eddy N is dead (SIGKILLed, say,
 * with nothing left to run this), and removes them. */
static void sweep_stale(const char *parent)
{
    DIR *d = opendir(parent);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        if (strncmp(e->d_name, "eddy-", 5) != 0)
            continue;
        long pid = strtol(e->d_name + 5, &end, 10);
        if (*end || pid <= 0 || pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s/%s/cgroup.kill", parent, e->d_name);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (write(fd, "1", 1) < 0) {
                /* nothing more to try */
            }
            close(fd);
        }
        snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
        rmdir(path); /* fails while its last processes die: the next eddy removes it */
    }
    closedir(d);
}

/* Checks with a throwaway child that a process can be moved into the cgroup. */
static int try_move(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0)
        _exit(write(procs_fd, "0", 1) == 1 ? 0 : 1);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPERM;
}

/* Gives up on the cgroup: why_not says "cannot WHAT PATH: ERROR". */
static void no_cgroup(const char *what, const char *path, int err)
{
    snprintf(why_not, sizeof(why_not), "cannot %s %s: %s", what, path, strerror(err));
    if (procs_fd >= 0)
        close(procs_fd);
    if (kill_fd >= 0)
        close(kill_fd);
    procs_fd = kill_fd = -1;
}

static void cgroup_setup(void)
{
    char mnt[PATH_MAX], own[PATH_MAX], parent[PATH_MAX];
    if (!cgroup2_mount(mnt, sizeof(mnt))) {
        snprintf(why_not, sizeof(why_not), "no cgroup v2 hierarchy is mounted");
        return;
    }
    if (!own_cgroup(own, sizeof(own))) {
        snprintf(why_not, sizeof(why_not), "eddy's own cgroup v2 is unknown (/proc/self/cgroup)");
        return;
    }
    if (snprintf(parent, sizeof(parent), "%s%s", mnt, strcmp(own, "/") ? own : "") >=
            (int)sizeof(parent) ||
        snprintf(cgroup_dir, sizeof(cgroup_dir), "%s/eddy-%ld", parent, (long)getpid()) >=
            (int)sizeof(cgroup_dir)) {
        snprintf(why_not, sizeof(why_not), "the cgroup path is too long");
        return;
    }
    sweep_stale(parent);
    if (mkdir(cgroup_dir, 0755) < 0 && errno != EEXIST) {
        no_cgroup("create", cgroup_dir, errno);
        return;
    }
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup_dir);
    procs_fd = open(path, O_WRONLY | O_CLOEXEC);
    if (procs_fd < 0) {
        no_cgroup("open", path, errno);
        rmdir(cgroup_dir);
        return;
    }
    snprintf(path, sizeof(path), "%s/cgroup.kill", cgroup_dir);
    kill_fd = open(path, O_WRONLY | O_CLOEXEC);
    if (kill_fd < 0) {
        no_cgroup("open (Linux 5.14 or later has it)", path, errno);
        rmdir(cgroup_dir);
        return;
    }
    int rc = try_move();
    if (rc < 0) {
        no_cgroup("move a process into", cgroup_dir, -rc);
        rmdir(cgroup_dir);
        return;
    }
    cgroup_on = true;
}

void contain_setup(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        fprintf(stderr, "eddy: warning: cannot become the subreaper of the nodes' children: %s\n",
                strerror(errno));
    const char *off = getenv(CONTAIN_NO_CGROUP_ENV);
    if (off && *off) {
        snprintf(why_not, sizeof(why_not), "%s is set", CONTAIN_NO_CGROUP_ENV);
        return;
    }
    cgroup_setup();
}

/* ==== The end ==== */

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct procs {
    pid_t *pid, *ppid;
    size_t len, cap;
};

/* Every process in /proc with its parent. */
static void procs_read(struct procs *p)
{
    p->len = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        char path[64], stat[512];
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, stat, sizeof(stat) - 1);
        close(fd);
        if (n <= 0)
            continue;
        stat[n] = '\0';
        /* "pid (comm) state ppid ...": comm may hold spaces and parens; parse after the last
         * ')'. */
        char *rp = strrchr(stat, ')');
        long ppid;
        char state;
        if (!rp || sscanf(rp + 1, " %c %ld", &state, &ppid) != 2 || state == 'Z')
            continue;
        if (p->len == p->cap) {
            p->cap = p->cap ? 2 * p->cap : 512;
            pid_t *a = realloc(p->pid, p->cap * sizeof(pid_t));
            pid_t *b = a ? realloc(p->ppid, p->cap * sizeof(pid_t)) : NULL;
            if (a)
                p->pid = a;
            if (!a || !b)
                break; /* out of memory: kill what was read */
            p->ppid = b;
        }
        p->pid[p->len] = (pid_t)pid;
        p->ppid[p->len] = (pid_t)ppid;
        p->len++;
    }
    closedir(d);
}

/* SIGKILLs every live descendant of this process found in /proc; returns how many. */
static unsigned kill_descendants(struct procs *p)
{
    procs_read(p);
    /* Mark descendants by passes over the table: a process whose parent is this process or
     * a marked one. pid 0 in ppid[] never matches, so marked entries set ppid to 0 and their
     * pid is pushed onto a list of parents. */
    pid_t *parents = calloc(p->len + 1, sizeof(pid_t));
    if (!parents)
        return 0;
    size_t np = 0;
    parents[np++] = getpid();
    unsigned found = 0;
    for (bool more = true; more;) {
        more = false;
        for (size_t i = 0; i < p->len; i++) {
            if (!p->ppid[i])
                continue;
            for (size_t j = 0; j < np; j++) {
                if (p->ppid[i] != parents[j])
                    continue;
                kill(p->pid[i], SIGKILL);
                found++;
                parents[np++] = p->pid[i];
                p->ppid[i] = 0;
                more = true;
                break;
            }
        }
    }
    free(parents);
    return found;
}

void contain_kill_all(double timeout_s, struct contain_result *out)
{
    memset(out, 0, sizeof(*out));
    double start = mono_s();
    struct procs p = {0};
    contain_kill_emergency(); /* the cgroup first: all at once, forks included */
    for (;;) {
        pid_t pid;
        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
            out->reaped++;
        if (pid < 0 && errno == ECHILD)
            break; /* no child, so no descendant: each is re-parented to us first */
        if (mono_s() - start >= timeout_s) {
            out->left = kill_descendants(&p);
            break;
        }
        /* Anything outside the cgroup (or all of them, without one). */
        kill_descendants(&p);
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    free(p.pid);
    free(p.ppid);
    if (procs_fd >= 0 && !out->left) {
        /* Empty once every member is reaped. */
        while (rmdir(cgroup_dir) < 0 && errno == EBUSY && mono_s() - start < timeout_s)
            nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
        close(procs_fd);
        close(kill_fd);
        procs_fd = kill_fd = -1;
    }
    out->seconds = mono_s() - start;
}
