/*
 * exekind.c: what kind of program a file holds (see exekind.h).
 *
 * Only headers are read: the ELF header, the program headers (PT_INTERP, PT_NOTE), the notes
 * (Go's linker writes a note named "Go" of type 4, its build ID), and when no note says Go, the
 * section names (".go.buildinfo", which every Go binary since 1.13 carries, even stripped).
 * Every count and size read from the file is bounded before it is used, since the file is the
 * user's and may be anything.
 * Depends on: util. Used by: clockroute, tests/sim/clock, fuzz_clocktrap.
 */
#include "exekind.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#else
#define NATIVE_MACHINE EM_NONE
#endif

#define PHDRS_MAX 256
#define SHDRS_MAX 4096
#define NOTES_MAX (64u << 10)
#define NAMES_MAX (64u << 10)
#define NT_GO_BUILD_ID 4

/* Reads exactly len bytes at off: 0, -ENODATA when the file is shorter, or the read's errno. */
static int read_exact(exekind_read_fn *read, void *ctx, uint64_t off, void *buf, size_t len)
{
    long n = read(ctx, off, buf, len);
    if (n < 0)
        return (int)n;
    return (size_t)n == len ? 0 : -ENODATA;
}

static void classify_script(const char *head, size_t n, struct exekind *out)
{
    size_t at = 2;
    while (at < n && (head[at] == ' ' || head[at] == '\t'))
        at++;
    size_t start = at;
    while (at < n && head[at] != ' ' && head[at] != '\t' && head[at] != '\n' && head[at] != '\0')
        at++;
    size_t len = EDDY_MIN(at - start, sizeof(out->interp) - 1);
    out->type = EXEKIND_SCRIPT;
    memcpy(out->interp, head + start, len);
    out->interp[len] = '\0';
}

/* True if the notes in buf[0..len) hold Go's build ID note. */
static bool notes_say_go(const uint8_t *buf, size_t len)
{
    size_t at = 0;
    while (len - at >= sizeof(Elf64_Nhdr)) {
        Elf64_Nhdr nh;
        memcpy(&nh, buf + at, sizeof(nh));
        at += sizeof(nh);
        size_t name = ((size_t)nh.n_namesz + 3) & ~(size_t)3;
        size_t desc = ((size_t)nh.n_descsz + 3) & ~(size_t)3;
        if (nh.n_namesz > len || nh.n_descsz > len || name > len - at)
            return false;
        if (nh.n_type == NT_GO_BUILD_ID && nh.n_namesz == 3 && memcmp(buf + at, "Go", 3) == 0)
            return true;
        at += name;
        if (desc > len - at)
            return false;
        at += desc;
    }
    return false;
}

/* Looks for Go's sections by name. 0 (with *go set or not), or a read error. */
static int sections_say_go(exekind_read_fn *read, void *ctx, const Elf64_Ehdr *eh, bool *go)
{
    *go = false;
    if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 ||
        eh->e_shnum > SHDRS_MAX || eh->e_shstrndx >= eh->e_shnum)
        return 0;
    Elf64_Shdr names;
    uint64_t off = eh->e_shoff + (uint64_t)eh->e_shstrndx * sizeof(Elf64_Shdr);
    if (read_exact(read, ctx, off, &names, sizeof(names)) < 0 || names.sh_size == 0)
        return 0;
    size_t nlen = (size_t)EDDY_MIN(names.sh_size, (uint64_t)NAMES_MAX);
    char *strtab = xmalloc(nlen + 1);
    long got = read(ctx, names.sh_offset, strtab, nlen);
    if (got < 0) {
        free(strtab);
        return (int)got;
    }
    strtab[got] = '\0';
    for (unsigned i = 0; i < eh->e_shnum && !*go; i++) {
        Elf64_Shdr sh;
        if (read_exact(read, ctx, eh->e_shoff + (uint64_t)i * sizeof(sh), &sh, sizeof(sh)) < 0)
            break;
        if (sh.sh_name >= (uint64_t)got)
            continue;
        const char *name = strtab + sh.sh_name;
        *go = strcmp(name, ".go.buildinfo") == 0 || strcmp(name, ".note.go.buildid") == 0;
    }
    free(strtab);
    return 0;
}

static int classify_elf(exekind_read_fn *read, void *ctx, struct exekind *out)
{
    Elf64_Ehdr eh;
    int rc = read_exact(read, ctx, 0, &eh, sizeof(eh));
    if (rc == -ENODATA)
        return 0; /* too short to be an ELF of ours: unknown */
    if (rc < 0)
        return rc;
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_machine != NATIVE_MACHINE || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > PHDRS_MAX)
        return 0;
    Elf64_Phdr ph[PHDRS_MAX];
    rc = read_exact(read, ctx, eh.e_phoff, ph, eh.e_phnum * sizeof(Elf64_Phdr));
    if (rc == -ENODATA)
        return 0;
    if (rc < 0)
        return rc;
    out->type = EXEKIND_STATIC;
    uint8_t *notes = NULL;
    size_t notes_seen = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type == PT_INTERP)
            out->type = EXEKIND_DYNAMIC;
        if (ph[i].p_type != PT_NOTE || out->go || notes_seen >= NOTES_MAX)
            continue;
        size_t len = (size_t)EDDY_MIN(ph[i].p_filesz, (uint64_t)(NOTES_MAX - notes_seen));
        notes_seen += len;
        notes = xrealloc(notes, len ? len : 1);
        long got = read(ctx, ph[i].p_offset, notes, len);
        if (got > 0)
            out->go = notes_say_go(notes, (size_t)got);
    }
    free(notes);
    if (!out->go)
        return sections_say_go(read, ctx, &eh, &out->go);
    return 0;
}

int exekind_classify(exekind_read_fn *read, void *ctx, struct exekind *out)
{
    memset(out, 0, sizeof(*out));
    out->type = EXEKIND_UNKNOWN;
    char head[EXEKIND_INTERP_MAX];
    long n = read(ctx, 0, head, sizeof(head));
    if (n < 0)
        return (int)n;
    if (n >= 2 && head[0] == '#' && head[1] == '!') {
        classify_script(head, (size_t)n, out);
        return 0;
    }
    if (n < 4 || memcmp(head, ELFMAG, SELFMAG) != 0)
        return 0;
    return classify_elf(read, ctx, out);
}

/* ==== Files ==== */

static long fd_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    int fd = *(int *)ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (long)done;
}

int exekind_file(const char *path, struct exekind *out, bool *script)
{
    char cur[EXEKIND_INTERP_MAX];
    snprintf(cur, sizeof(cur), "%s", path);
    if (script)
        *script = false;
    for (int depth = 0; depth <= EXEKIND_SCRIPT_DEPTH; depth++) {
        int fd = open(cur, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        int rc = exekind_classify(fd_read, &fd, out);
        close(fd);
        if (rc < 0)
            return rc;
        if (out->type != EXEKIND_SCRIPT)
            return 0;
        if (script)
            *script = true;
        if (!out->interp[0])
            return -ENOEXEC;
        snprintf(cur, sizeof(cur), "%s", out->interp);
    }
    return -ELOOP; /* the kernel gives up here too */
}

const char *exekind_describe(const struct exekind *k)
{
    switch (k->type) {
    case EXEKIND_STATIC:
        return k->go ? "a Go program (statically linked)" : "a statically linked program";
    case EXEKIND_DYNAMIC:
        return k->go ? "a Go program (dynamically linked; its runtime reads the vDSO itself)"
                     : "a dynamically linked program";
    case EXEKIND_SCRIPT:
        return "a script";
    case EXEKIND_UNKNOWN:
        break;
    }
    return "not an ELF program of this machine";
}
