/*
 * vdsomap.h: mapping eddy's vDSO (eddyvdso.so) into a program stopped after its execve.
 *
 * With its vDSO hidden, every clock read of a Go or static program is a round trip through
 * eddy. With eddy's vDSO in its place, the program fakes its own clock as the preload library
 * does, in-process. At the exec stop eddy makes the program run a few system calls of its own
 * (written over its first instruction, one single step each, everything restored after): an
 * anonymous mapping for the three regions, the node's clock file opened and mapped shared into
 * the middle one; then it writes the slots (the kernel vDSO's function addresses in that
 * process) and the image, and seals them read-only. The caller then points AT_SYSINFO_EHDR at
 * the image. Loading checks the image as eddy's own build made it: one segment from address 0,
 * no relocation.
 * Depends on: util, alloc. Used by: clocksys, clockroute (loads the image), tests.
 */
#ifndef EDDY_VDSOMAP_H
#define EDDY_VDSOMAP_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#define VDSOMAP_IMAGE_MAX (64u << 10) /* a larger file is not eddy's vDSO */
#define VDSOMAP_NONE UINT64_MAX       /* a kernel vDSO function that does not exist */

/* The slots' order: as struct eddy_vdso_slots. */
enum {
    VDSOMAP_CLOCK_GETTIME,
    VDSOMAP_GETTIMEOFDAY,
    VDSOMAP_CLOCK_GETRES,
    VDSOMAP_GETCPU,
    VDSOMAP_FUNCS
};

struct vdsomap_image {
    uint8_t *bytes;                   /* the image file; owned */
    size_t len;                       /* its length, bytes */
    uint64_t real_off[VDSOMAP_FUNCS]; /* the kernel vDSO's functions, as offsets from its start */
};

/* Checks that bytes[0..len) is an image eddy can copy into a program: an ELF64 shared object
 * for this machine, one PT_LOAD at offset and address 0 covering the file, a PT_DYNAMIC inside
 * it, no relocation entries, __vdso_clock_gettime exported. 0 or -ENOEXEC. Pure. */
int vdsomap_check(const uint8_t *bytes, size_t len);

/* Finds, in a vDSO mapped at `vdso` (its ELF header), the offsets of the functions eddy's image
 * forwards to (VDSOMAP_NONE for any it lacks). 0, or -ENOEXEC when it is not a vDSO it can
 * read. Reads only memory the ELF headers point to. */
int vdsomap_kernel_symbols(const uint8_t *vdso, uint64_t off[VDSOMAP_FUNCS]);

/* Reads and checks the image at path and resolves the kernel vDSO's functions from eddy's own
 * (the kernel maps the same one into every 64-bit process). 0 with *out (release with
 * vdsomap_free), or a negative errno with a sentence in why. */
int vdsomap_load(const char *path, struct vdsomap_image *out, char *why, size_t cap);
void vdsomap_free(struct vdsomap_image *img);

/* Waits until pid, a tracee of the calling thread that was just resumed, is in a ptrace stop
 * again, and fills *si with that stop's siginfo. Polls PTRACE_GETSIGINFO, which works only on a
 * stopped tracee, rather than waiting for a wait status: the tracee may be eddy's own child,
 * whose stops libev's SIGCHLD handler can take from any thread (waitpid(-1)). 0, -ESRCH if it
 * died, -ETIMEDOUT after timeout_ns. */
int vdsomap_wait_stop(pid_t pid, int64_t timeout_ns, siginfo_t *si);

/* For a program pid in a ptrace stop right after its execve (eddy its tracer), whose kernel vDSO
 * is at kernel_vdso (its AT_SYSINFO_EHDR): maps the slots, the clock file at block_path and the
 * image, and sets *image_at to the image's address there. The program's registers and code are
 * as they were on return, whatever happened. 0, or a negative errno (nothing usable mapped). */
int vdsomap_inject(pid_t pid, const struct vdsomap_image *img, const char *block_path,
                   uint64_t kernel_vdso, uint64_t *image_at);

#endif /* EDDY_VDSOMAP_H */
