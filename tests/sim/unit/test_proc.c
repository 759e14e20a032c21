/*
 * test_proc.c: a node's stdin queue (proc.h): the list of processes with queued bytes, and the
 * queue's maximum.
 *
 * The node is /bin/sleep, which never reads its stdin, so its pipe fills and stays full: the
 * case of a hostile node that stops reading while others keep sending to it. The loop is never
 * run; the tests call what the loop's watchers call, in the order that once closed the dirty
 * list into a cycle (eddy then spun at 100% CPU past its time limit).
 * Depends on: proc, buf, libev, unitkit.h.
 */
#include "unitkit.h"
#include "proc.h"

#include <criterion/criterion.h>
#include <ev.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static char dir[256];
static char log_path[512];
static struct proc node;

static void on_line(struct proc *p, const char *line, size_t len)
{
    (void)p, (void)line, (void)len;
}

static void on_exit_cb(struct proc *p, int status)
{
    (void)p, (void)status;
}

static void setup(void)
{
    tmp_dir_make(dir, sizeof(dir));
    snprintf(log_path, sizeof(log_path), "%s/n0.log", dir);
    proc_init(&node, 0, "n0", NULL, on_line, on_exit_cb, NULL);
    const char *argv[] = {"sleep", "1000", NULL};
    struct proc_spawn_opts o = {
        .path = "/bin/sleep", .argv = argv, .cwd = dir, .log_path = log_path};
    char err[256] = "";
    int rc = proc_spawn(&node, ev_default_loop(0), &o, err, sizeof(err));
    cr_assert_eq(rc, 0, "spawn failed: %s", err);
}

static void teardown(void)
{
    pid_t pid = node.pid;
    proc_signal(&node, SIGKILL);
    proc_release(&node);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    proc_flush_dirty();
    proc_fini(&node);
    tmp_dir_remove(dir);
}

TestSuite(proc, .init = setup, .fini = teardown, .timeout = 120);

static char chunk[64 << 10];

/* Queues bytes until the node's pipe is full and some are left waiting in the queue. */
static void fill_pipe(void)
{
    memset(chunk, 'z', sizeof(chunk));
    for (int i = 0; i < 16; i++)
        cr_assert_eq(proc_send(&node, chunk, sizeof(chunk)), 0, "queued chunk %d", i);
    cr_assert_eq(proc_flush_dirty(), 1, "the node is listed once");
    cr_assert_gt(buf_len(&node.in_q), 0, "the pipe is full and bytes wait in the queue");
}

Test(proc, a_node_flushed_by_its_watcher_is_listed_once)
{
    fill_pipe();
    cr_assert_eq(proc_send(&node, "x\n", 2), 0);
    /* The pipe's writability watcher fires before the loop's prepare phase and flushes the node
     * while it is on the list; a send follows before the list is drained. */
    proc_flush(&node);
    cr_assert_eq(proc_send(&node, "y\n", 2), 0);
    cr_assert(node.next_dirty != &node, "the node is linked to itself: the list is a cycle");
    cr_assert_eq(proc_flush_dirty(), 1, "one node flushed");
    cr_assert_eq(proc_flush_dirty(), 0, "and the list is empty afterwards");
    cr_assert_eq(proc_send(&node, "w\n", 2), 0);
    cr_assert_eq(proc_flush_dirty(), 1, "a later send lists it again");
}

Test(proc, the_stdin_queue_refuses_bytes_at_its_maximum)
{
    fill_pipe();
    size_t queued = buf_len(&node.in_q);
    int refused = 0;
    while (queued + sizeof(chunk) <= PROC_STDIN_MAX) {
        cr_assert_eq(proc_send(&node, chunk, sizeof(chunk)), 0, "room left: %zu queued", queued);
        queued += sizeof(chunk);
    }
    for (int i = 0; i < 3; i++)
        refused += proc_send(&node, chunk, sizeof(chunk)) == -ENOBUFS;
    cr_assert_eq(refused, 3, "every send past the maximum is refused whole");
    cr_assert_eq(node.stdin_dropped, 3, "and counted as a drop");
    cr_assert_eq(buf_len(&node.in_q), queued, "nothing of a refused send is queued");
    cr_assert_null(proc_reserve(&node, sizeof(chunk)), "no room reserved either");
    cr_assert_eq(node.stdin_dropped, 4);
    proc_flush_dirty();
    cr_assert_eq(buf_len(&node.in_q), queued, "a full pipe takes nothing more");
}
