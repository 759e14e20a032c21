/*
 * vdsomap.c: mapping eddy's vDSO into a program stopped after its execve (see vdsomap.h).
 *
 * The system calls are made by the stopped program itself: its first instruction is replaced by
 * `syscall`, its registers set to the call, one single step taken, the result read from rax, and
 * at the end the instruction and every register put back, so that the program starts exactly
 * as the kernel left it. The program is stopped (eddy is its tracer) the whole time; a single
 * step that ends in anything but a stop (the program was killed) ends the injection. Stops are
 * found with PTRACE_GETSIGINFO, never through wait statuses, which libev may take first.
 * Depends on: util, alloc, eddy/vdso.h. Used by: clocksys, clockroute, tests.
 */
#include "vdsomap.h"
#include "eddy/alloc.h"
#include "eddy/util.h"
#include "eddy/vdso.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const func_names[VDSOMAP_FUNCS] = {"__vdso_clock_gettime", "__vdso_gettimeofday",
                                                      "__vdso_clock_getres", "__vdso_getcpu"};

/* ==== Reading a vDSO's ELF, bounded ==== */

/* A view of an image: its bytes from the ELF header, len of them readable. */
struct view {
    const uint8_t *p;
    size_t len;
};

static const void *at(const struct view *v, uint64_t off, uint64_t n)
{
    if (off > v->len || n > v->len - off)
        return NULL;
    return v->p + off;
}

/* The single PT_LOAD's address, and the dynamic section's offset and entry count. */
static int headers(const struct view *v, uint64_t *load_vaddr, uint64_t *load_size,
                   uint64_t *dyn_off, size_t *dyn_n, int *loads)
{
    const Elf64_Ehdr *eh = at(v, 0, sizeof(*eh));
    if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > 16)
        return -ENOEXEC;
    const Elf64_Phdr *ph = at(v, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(*ph));
    if (!ph)
        return -ENOEXEC;
    *loads = 0;
    bool dyn = false;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && (*loads)++ == 0) {
            *load_vaddr = ph[i].p_vaddr;
            *load_size = ph[i].p_memsz;
            if (ph[i].p_offset != 0)
                return -ENOEXEC;
        } else if (ph[i].p_type == PT_DYNAMIC) {
            *dyn_off = ph[i].p_offset;
            *dyn_n = (size_t)(ph[i].p_filesz / sizeof(Elf64_Dyn));
            dyn = true;
        }
    }
    return *loads > 0 && dyn ? 0 : -ENOEXEC;
}

/* Offsets of func_names in the image (VDSOMAP_NONE for missing ones); *relocs counts relocation
 * entries its dynamic section asks for. */
static int symbols(const struct view *v, uint64_t off[VDSOMAP_FUNCS], unsigned *relocs, int *loads)
{
    uint64_t load_vaddr = 0, load_size = 0, dyn_off = 0;
    size_t dyn_n = 0;
    int rc = headers(v, &load_vaddr, &load_size, &dyn_off, &dyn_n, loads);
    if (rc < 0)
        return rc;
    const Elf64_Dyn *dyn = at(v, dyn_off, dyn_n * sizeof(Elf64_Dyn));
    if (!dyn)
        return -ENOEXEC;
    uint64_t symtab = 0, strtab = 0, strsz = 0, hash = 0;
    *relocs = 0;
    for (size_t i = 0; i < dyn_n && dyn[i].d_tag != DT_NULL; i++) {
        switch (dyn[i].d_tag) {
        case DT_SYMTAB:
            symtab = dyn[i].d_un.d_ptr - load_vaddr;
            break;
        case DT_STRTAB:
            strtab = dyn[i].d_un.d_ptr - load_vaddr;
            break;
        case DT_STRSZ:
            strsz = dyn[i].d_un.d_val;
            break;
        case DT_HASH:
            hash = dyn[i].d_un.d_ptr - load_vaddr;
            break;
        case DT_REL:
        case DT_RELA:
        case DT_JMPREL:
        case DT_TEXTREL:
            (*relocs)++;
            break;
        default:
            break;
        }
    }
    const uint32_t *h = at(v, hash, 8);
    const char *str = at(v, strtab, strsz);
    if (!symtab || !h || !str || strsz == 0)
        return -ENOEXEC;
    uint32_t nsyms = h[1]; /* DT_HASH: nbucket, nchain; nchain is the number of symbols */
    const Elf64_Sym *sym = at(v, symtab, (uint64_t)nsyms * sizeof(Elf64_Sym));
    if (!sym)
        return -ENOEXEC;
    for (int f = 0; f < VDSOMAP_FUNCS; f++)
        off[f] = VDSOMAP_NONE;
    for (uint32_t i = 0; i < nsyms; i++) {
        if (sym[i].st_name >= strsz || ELF64_ST_TYPE(sym[i].st_info) != STT_FUNC ||
            sym[i].st_shndx == SHN_UNDEF)
            continue;
        const char *name = str + sym[i].st_name;
        size_t room = strsz - sym[i].st_name;
        for (int f = 0; f < VDSOMAP_FUNCS; f++)
            if (strnlen(name, room) < room && strcmp(name, func_names[f]) == 0)
                off[f] = sym[i].st_value - load_vaddr;
    }
    return 0;
}

int vdsomap_check(const uint8_t *bytes, size_t len)
{
    struct view v = {bytes, len};
    uint64_t off[VDSOMAP_FUNCS];
    unsigned relocs;
    int loads;
    if (len < sizeof(Elf64_Ehdr) || len > VDSOMAP_IMAGE_MAX ||
        symbols(&v, off, &relocs, &loads) < 0 || loads != 1 || relocs != 0)
        return -ENOEXEC;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)bytes;
    const Elf64_Phdr *ph = at(&v, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(*ph));
    for (unsigned i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD &&
            (ph[i].p_vaddr != 0 || ph[i].p_filesz != ph[i].p_memsz || ph[i].p_filesz > len))
            return -ENOEXEC;
    if (off[VDSOMAP_CLOCK_GETTIME] == VDSOMAP_NONE || off[VDSOMAP_CLOCK_GETTIME] >= len)
        return -ENOEXEC;
    return 0;
}

int vdsomap_kernel_symbols(const uint8_t *vdso, uint64_t off[VDSOMAP_FUNCS])
{
    /* The kernel's own image: trusted to be well formed, and read up to its segment's end. */
    struct view v = {vdso, sizeof(Elf64_Ehdr)};
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)vdso;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_phnum == 0 || eh->e_phnum > 16)
        return -ENOEXEC;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(vdso + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD)
            v.len = (size_t)EDDY_MAX((uint64_t)v.len, ph[i].p_offset + ph[i].p_filesz);
    unsigned relocs;
    int loads;
    return symbols(&v, off, &relocs, &loads);
}

int vdsomap_load(const char *path, struct vdsomap_image *out, char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        snprintf(why, cap, "cannot read %s: %s", path, strerror(e));
        if (fd >= 0)
            close(fd);
        return -e;
    }
    size_t len = (size_t)EDDY_MIN((uint64_t)st.st_size, (uint64_t)VDSOMAP_IMAGE_MAX + 1);
    uint8_t *bytes = xmalloc(len ? len : 1);
    ssize_t n = read(fd, bytes, len);
    close(fd);
    if (n != (ssize_t)len || vdsomap_check(bytes, len) < 0) {
        snprintf(why, cap, "%s is not a vDSO image eddy built", path);
        free(bytes);
        return -ENOEXEC;
    }
    const uint8_t *own = (const uint8_t *)getauxval(AT_SYSINFO_EHDR);
    if (!own || vdsomap_kernel_symbols(own, out->real_off) < 0 ||
        out->real_off[VDSOMAP_CLOCK_GETTIME] == VDSOMAP_NONE) {
        snprintf(why, cap, "eddy cannot read this kernel's vDSO");
        free(bytes);
        return -ENOEXEC;
    }
    out->bytes = bytes;
    out->len = len;
    return 0;
}

void vdsomap_free(struct vdsomap_image *img)
{
    free(img->bytes);
    img->bytes = NULL;
}

/* ==== Waiting for a tracee ==== */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* True once pid is gone or a zombie. */
static bool gone(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return true;
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return !rp || rp[1] != ' ' || rp[2] == 'Z' || rp[2] == 'X';
}

int vdsomap_wait_stop(pid_t pid, int64_t timeout_ns, siginfo_t *si)
{
    int64_t deadline = mono_ns() + timeout_ns;
    for (unsigned spin = 0;; spin++) {
        if (ptrace(PTRACE_GETSIGINFO, pid, NULL, si) == 0)
            return 0;
        if (errno != ESRCH)
            return -errno;
        if (gone(pid))
            return -ESRCH;
        if (mono_ns() > deadline)
            return -ETIMEDOUT;
        /* A single step takes microseconds: spin a little, then sleep in short naps. */
        if (spin >= 64) {
            struct timespec nap = {.tv_sec = 0, .tv_nsec = 20000};
            nanosleep(&nap, NULL);
        }
    }
}

/* ==== Making the stopped program call ==== */

#if defined(__x86_64__)

struct inject {
    pid_t pid;
    struct user_regs_struct saved;
    uint64_t code;  /* where the syscall instruction goes: the program's next instruction */
    long code_word; /* the word that was there */
    bool code_patched;
};

#define STEP_TIMEOUT_NS (2 * 1000000000LL) /* a single step or a system call's exit */

/* Waits for the next stop of pid after a resume: 0, or a negative errno. */
static int wait_stop(pid_t pid)
{
    siginfo_t si;
    return vdsomap_wait_stop(pid, STEP_TIMEOUT_NS, &si);
}

static int inject_begin(struct inject *in)
{
    if (ptrace(PTRACE_GETREGS, in->pid, NULL, &in->saved) < 0)
        return -errno;
    in->code = in->saved.rip;
    errno = 0;
    in->code_word = ptrace(PTRACE_PEEKTEXT, in->pid, (void *)(uintptr_t)in->code, NULL);
    if (errno)
        return -errno;
    long patched = (long)(((unsigned long)in->code_word & ~0xffffUL) | 0x050fUL); /* syscall */
    if (ptrace(PTRACE_POKETEXT, in->pid, (void *)(uintptr_t)in->code, (void *)patched) < 0)
        return -errno;
    in->code_patched = true;
    return 0;
}

/* The program makes system call nr; its return value, or a negative errno of the injection. */
static long inject_call(struct inject *in, long nr, long a0, long a1, long a2, long a3, long a4,
                        long a5, bool *ok)
{
    struct user_regs_struct r = in->saved;
    r.rax = (unsigned long)nr;
    r.orig_rax = (unsigned long)-1; /* not in a system call: no restart on the way out */
    r.rdi = (unsigned long)a0;
    r.rsi = (unsigned long)a1;
    r.rdx = (unsigned long)a2;
    r.r10 = (unsigned long)a3;
    r.r8 = (unsigned long)a4;
    r.r9 = (unsigned long)a5;
    r.rip = in->code;
    *ok = false;
    if (ptrace(PTRACE_SETREGS, in->pid, NULL, &r) < 0 ||
        ptrace(PTRACE_SINGLESTEP, in->pid, NULL, NULL) < 0)
        return -errno;
    int rc = wait_stop(in->pid);
    if (rc < 0)
        return rc;
    if (ptrace(PTRACE_GETREGS, in->pid, NULL, &r) < 0)
        return -errno;
    *ok = true;
    return (long)r.rax;
}

static void inject_end(struct inject *in)
{
    if (in->code_patched)
        ptrace(PTRACE_POKETEXT, in->pid, (void *)(uintptr_t)in->code, (void *)in->code_word);
    ptrace(PTRACE_SETREGS, in->pid, NULL, &in->saved);
}

/* Writes into the program, through /proc/<pid>/mem where process_vm_writev is forbidden. */
static int put(pid_t pid, uint64_t addr, const void *p, size_t n)
{
    struct iovec local = {.iov_base = (void *)p, .iov_len = n};
    struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = n};
    ssize_t k = process_vm_writev(pid, &local, 1, &remote, 1, 0);
    if (k < 0 && (errno == EPERM || errno == ENOSYS || errno == EACCES)) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%ld/mem", (long)pid);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        k = pwrite(fd, p, n, (off_t)addr);
        int e = errno;
        close(fd);
        errno = e;
    }
    return k == (ssize_t)n ? 0 : k < 0 ? -errno : -EIO;
}

/* A failed call: its errno (a kernel return in [-4095, -1]), or EIO for a strange value. */
static int call_failed(long rc, bool ok)
{
    if (!ok)
        return (int)(rc < 0 ? rc : -EIO);
    return rc < 0 && rc >= -4095 ? (int)rc : 0;
}

static int inject_all(struct inject *in, const struct vdsomap_image *img, const char *block_path,
                      uint64_t kernel_vdso, uint64_t *image_at)
{
    const long page = EDDY_VDSO_PAGE;
    long image_len = ((long)img->len + page - 1) / page * page;
    size_t plen = strlen(block_path) + 1;
    if (plen > (size_t)page)
        return -ENAMETOOLONG;
    bool ok;
    long area = inject_call(in, SYS_mmap, 0, 2 * page + image_len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, &ok);
    int rc = call_failed(area, ok);
    if (rc < 0)
        return rc;
    /* The clock file's path goes where the slots will be, for the open. */
    if ((rc = put(in->pid, (uint64_t)area, block_path, plen)) < 0)
        return rc;
    long fd = inject_call(in, SYS_openat, AT_FDCWD, area, O_RDWR | O_CLOEXEC, 0, 0, 0, &ok);
    if ((rc = call_failed(fd, ok)) < 0)
        return rc;
    long blk = inject_call(in, SYS_mmap, area + page, page, PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_FIXED, fd, 0, &ok);
    rc = call_failed(blk, ok);
    long closed = inject_call(in, SYS_close, fd, 0, 0, 0, 0, 0, &ok);
    if (rc < 0 || (rc = call_failed(closed, ok)) < 0)
        return rc;
    if (blk != area + page)
        return -EIO;
    /* The slots: the kernel vDSO's functions in this process. */
    uint64_t slots[EDDY_VDSO_PAGE / sizeof(uint64_t)];
    memset(slots, 0, sizeof(slots));
    _Static_assert(sizeof(struct eddy_vdso_slots) == VDSOMAP_FUNCS * sizeof(uint64_t),
                   "the slots, in vdsomap's order");
    for (int f = 0; f < VDSOMAP_FUNCS; f++)
        slots[f] = img->real_off[f] == VDSOMAP_NONE ? 0 : kernel_vdso + img->real_off[f];
    uint8_t *image = xmalloc((size_t)image_len);
    memset(image, 0, (size_t)image_len);
    memcpy(image, img->bytes, img->len);
    memcpy(image + EI_PAD, EDDY_VDSO_MARK, 4);
    rc = put(in->pid, (uint64_t)area, slots, sizeof(slots));
    if (rc == 0)
        rc = put(in->pid, (uint64_t)(area + 2 * page), image, (size_t)image_len);
    free(image);
    if (rc < 0)
        return rc;
    long p1 = inject_call(in, SYS_mprotect, area, page, PROT_READ, 0, 0, 0, &ok);
    if ((rc = call_failed(p1, ok)) < 0)
        return rc;
    long p2 = inject_call(in, SYS_mprotect, area + 2 * page, image_len, PROT_READ | PROT_EXEC, 0, 0,
                          0, &ok);
    if ((rc = call_failed(p2, ok)) < 0)
        return rc;
    *image_at = (uint64_t)(area + 2 * page);
    return 0;
}

int vdsomap_inject(pid_t pid, const struct vdsomap_image *img, const char *block_path,
                   uint64_t kernel_vdso, uint64_t *image_at)
{
    ASSERT(img != NULL && img->bytes != NULL);
    struct inject in = {.pid = pid};
    int rc = inject_begin(&in);
    if (rc == 0)
        rc = inject_all(&in, img, block_path, kernel_vdso, image_at);
    inject_end(&in);
    return rc;
}

#else

int vdsomap_inject(pid_t pid, const struct vdsomap_image *img, const char *block_path,
                   uint64_t kernel_vdso, uint64_t *image_at)
{
    return -ENOSYS;
}

#endif
