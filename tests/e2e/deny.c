/*
 * deny.c: runs a command in a world where one system call is refused, as a container's seccomp
 * profile or Yama would refuse it: for the tests of what eddy says when its clock route is
 * forbidden.
 *
 *     deny ptrace|seccomp|process_vm_writev -- COMMAND [ARGS...]
 *
 * It installs a seccomp filter (after no_new_privs) that makes the named call fail with EPERM
 * (seccomp: EINVAL, as a kernel without user notification answers), then execs the command. The
 * filter is inherited by everything the command starts, as a container's would be. For ptrace
 * only the requests a tracee-to-be makes are refused (PTRACE_TRACEME, PTRACE_SEIZE): the
 * sanitizers' leak checker attaches to its own threads with PTRACE_ATTACH at exit.
 * Depends on: libc. Used by: tests/e2e/test_clocks.py.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[2], "--") != 0) {
        fprintf(stderr, "usage: deny ptrace|seccomp|process_vm_writev -- COMMAND [ARGS...]\n");
        return 2;
    }
    long nr;
    unsigned err = EPERM;
    if (strcmp(argv[1], "ptrace") == 0) {
        nr = SYS_ptrace;
    } else if (strcmp(argv[1], "seccomp") == 0) {
        nr = SYS_seccomp;
        err = EINVAL;
    } else if (strcmp(argv[1], "process_vm_writev") == 0) {
        nr = SYS_process_vm_writev;
    } else {
        fprintf(stderr, "deny: unknown call %s\n", argv[1]);
        return 2;
    }
    /* For ptrace, the request (args[0]) must be TRACEME or SEIZE; for the others any call. */
    bool by_request = nr == SYS_ptrace;
    struct sock_filter insns[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 6),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, by_request ? PTRACE_TRACEME : 0u, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, by_request ? PTRACE_SEIZE : 0u, 0, by_request ? 1 : 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | err),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
        perror("deny: seccomp");
        return 2;
    }
    execv(argv[3], argv + 3);
    perror("deny: exec");
    return 127;
}
