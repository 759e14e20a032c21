/*
 * vdso.h: what eddy and its replacement vDSO (sim/clock/vdso.c, eddyvdso.so) agree on.
 *
 * eddy maps three regions into a node's program, contiguous: a page of slots (the kernel vDSO's
 * function addresses in that process, read-only to the node), the page of the node's control
 * block (its clock file, shared), then the image; AT_SYSINFO_EHDR points at the image. The image
 * finds the other two below itself. Its ELF header carries EDDY_VDSO_MARK in e_ident's padding,
 * which eddy writes there, so that the preload library, should it load into such a program,
 * knows the vDSO already fakes the clock.
 * Depends on: nothing. Used by: vdso.c, clocksys.c, preload.c.
 */
#ifndef EDDY_VDSO_H
#define EDDY_VDSO_H

#include <sys/time.h>
#include <time.h>

#define EDDY_VDSO_PAGE 4096
#define EDDY_VDSO_MARK "EDDY" /* at e_ident[EI_PAD] (offset 9), 4 bytes */
#define EDDY_VDSO_LIB_NAME "eddyvdso.so"

/* The slots page: each a function of the kernel's vDSO in that process, NULL if it has none. */
struct eddy_vdso_slots {
    int (*clock_gettime)(clockid_t id, struct timespec *ts);
    int (*gettimeofday)(struct timeval *tv, void *tz);
    int (*clock_getres)(clockid_t id, struct timespec *res);
    long (*getcpu)(unsigned *cpu, unsigned *node, void *unused);
};

#endif /* EDDY_VDSO_H */
