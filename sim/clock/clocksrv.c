/*
 * clocksrv.c: the threads that answer trapped clock calls (see clocksrv.h).
 *
 * A listener's thread loops on clocksys_serve_wait: a blocking RECV, then the answer, and leaves
 * when the node is gone (the descriptor hangs up; clocksrv_stop closes it). Nothing else wakes a
 * RECV but a notification or a signal, so stopping sets a flag and sends the thread
 * CLOCKSRV_SIGNAL (a handler that does nothing, installed without SA_RESTART), again until the
 * thread says it has left: a signal that lands just before the RECV would otherwise be lost.
 * The threads block every other signal but the synchronous ones, which leaves eddy's handlers to
 * the main thread as before.
 * Depends on: clocksys, clockctl, alloc, util. Used by: clockroute, tests/sim/clock, bench.
 */
#include "clocksrv.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

#define CLOCKSRV_SIGNAL (SIGRTMIN + 3)
#define STACK_BYTES (256u << 10) /* the deepest path classifies an exec'd binary: ~20 KiB */

struct clocksrv {
    atomic_bool stopping;
    bool stopped;
    pthread_mutex_t lock; /* guards the list against clocksrv_add from another thread */
    struct clocksrv_listener **all;
    size_t len, cap;
    atomic_size_t running; /* threads not yet gone */
};

static void clocksrv_wake(int sig)
{
    (void)sig; /* only there to interrupt a RECV */
}

static void *clocksrv_run(void *arg)
{
    struct clocksrv_listener *l = arg;
    struct clocksrv *srv = l->srv;
    while (!atomic_load(&srv->stopping)) {
        int rc = clocksys_serve_wait(l->fd, l->ctl, &l->st, l->plan, l->plan_ctx);
        if (l->st.cannot_write && !atomic_load(&l->error))
            atomic_store(&l->error, l->st.cannot_write); /* still served, on the real clock */
        if (rc == -EINTR || rc >= 0)
            continue;
        if (rc != -EPIPE) /* -EPIPE: the node is gone, which is no error */
            atomic_store(&l->error, -rc);
        atomic_store(&l->closed, true);
        break;
    }
    atomic_fetch_sub(&srv->running, 1);
    return NULL;
}

int clocksrv_new(struct clocksrv **out)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = clocksrv_wake; /* no SA_RESTART: the RECV must return EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(CLOCKSRV_SIGNAL, &sa, NULL) < 0)
        return -errno;
    struct clocksrv *srv = xcalloc(1, sizeof(*srv));
    pthread_mutex_init(&srv->lock, NULL);
    *out = srv;
    return 0;
}

static int start_thread(struct clocksrv_listener *l)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, STACK_BYTES);
    sigset_t all, old;
    sigfillset(&all);
    static const int keep[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP};
    for (size_t i = 0; i < ARRAY_LEN(keep); i++)
        sigdelset(&all, keep[i]);
    sigdelset(&all, CLOCKSRV_SIGNAL);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&l->thread, &at, clocksrv_run, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&at);
    return -e;
}

int clocksrv_add(struct clocksrv *srv, struct clocksrv_listener *l, int fd)
{
    ASSERT(srv != NULL);
    ASSERT(fd >= 0);
    l->fd = fd;
    l->srv = srv;
    l->started = false;
    atomic_store(&l->closed, false);
    atomic_store(&l->error, 0);
    /* The kernel's synchronous wake-up (6.6); an older kernel says EINVAL and wakes as before. */
    ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    pthread_mutex_lock(&srv->lock);
    int rc = srv->stopped || atomic_load(&srv->stopping) ? -ESHUTDOWN
             : srv->len >= CLOCKSRV_LISTENERS_MAX        ? -EMFILE
                                                         : 0;
    if (rc == 0 && srv->len == srv->cap) {
        srv->cap = srv->cap ? srv->cap * 2 : 16;
        srv->all = xrealloc(srv->all, srv->cap * sizeof(*srv->all));
    }
    if (rc == 0) {
        atomic_fetch_add(&srv->running, 1);
        rc = start_thread(l);
        if (rc < 0)
            atomic_fetch_sub(&srv->running, 1);
    }
    if (rc == 0) {
        l->started = true;
        srv->all[srv->len++] = l;
    }
    pthread_mutex_unlock(&srv->lock);
    if (rc < 0) {
        close(fd);
        l->fd = -1;
        atomic_store(&l->error, -rc);
        atomic_store(&l->closed, true);
    }
    return rc;
}

void clocksrv_stop(struct clocksrv *srv)
{
    if (!srv)
        return;
    pthread_mutex_lock(&srv->lock);
    if (srv->stopped) {
        pthread_mutex_unlock(&srv->lock);
        return;
    }
    atomic_store(&srv->stopping, true);
    /* Until every thread has left: a wake-up can land between a thread's look at the flag and
     * its RECV, so it is sent again each millisecond. */
    while (atomic_load(&srv->running) > 0) {
        for (size_t i = 0; i < srv->len; i++)
            if (srv->all[i]->started)
                pthread_kill(srv->all[i]->thread, CLOCKSRV_SIGNAL);
        struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000};
        nanosleep(&ms, NULL);
    }
    for (size_t i = 0; i < srv->len; i++) {
        struct clocksrv_listener *l = srv->all[i];
        pthread_join(l->thread, NULL);
        l->started = false;
        close(l->fd);
        l->fd = -1;
        atomic_store(&l->closed, true);
    }
    srv->stopped = true;
    pthread_mutex_unlock(&srv->lock);
}

void clocksrv_free(struct clocksrv *srv)
{
    if (!srv)
        return;
    clocksrv_stop(srv);
    pthread_mutex_destroy(&srv->lock);
    free(srv->all);
    free(srv);
}
