/*
 * test_exekind.c: what kind of program a file holds, on the binaries this build makes (a static
 * and a dynamic C probe, the Go test node, static and dynamic), on scripts, and on bytes that are
 * not programs at all.
 * Depends on: exekind, clock_probe, clock_probe_static, gonode, gonode-dynamic.
 */
#include "exekind.h"
#include "eddy/util.h"

#include <criterion/criterion.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void classify(const char *path, struct exekind *k, bool *script)
{
    int rc = exekind_file(path, k, script);
    cr_assert_eq(rc, 0, "%s: %s", path, strerror(-rc));
}

Test(exekind, c_programs_static_and_dynamic)
{
    struct exekind k;
    bool script;
    classify(CLOCK_PROBE_STATIC, &k, &script);
    cr_assert_eq(k.type, EXEKIND_STATIC);
    cr_assert_not(k.go);
    cr_assert_not(script);
    classify(CLOCK_PROBE, &k, &script);
    cr_assert_eq(k.type, EXEKIND_DYNAMIC);
    cr_assert_not(k.go);
    cr_assert_str_eq(exekind_describe(&k), "a dynamically linked program");
}

Test(exekind, go_programs_whatever_their_linking)
{
    struct exekind k;
    classify(GONODE, &k, NULL);
    cr_assert_eq(k.type, EXEKIND_STATIC);
    cr_assert(k.go);
    classify(GONODE_DYNAMIC, &k, NULL);
    cr_assert_eq(k.type, EXEKIND_DYNAMIC, "cgo links the Go node dynamically");
    cr_assert(k.go, "a dynamic Go program is still Go: its runtime reads the vDSO itself");
}

/* ==== From memory ==== */

struct mem {
    const uint8_t *data;
    size_t len;
};

static long mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    const struct mem *m = ctx;
    if (off >= m->len)
        return 0;
    size_t n = EDDY_MIN(len, (size_t)(m->len - off));
    memcpy(buf, m->data + off, n);
    return (long)n;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0, "%s", path);
    struct stat st;
    cr_assert_eq(fstat(fd, &st), 0);
    uint8_t *p = malloc((size_t)st.st_size);
    cr_assert_not_null(p);
    cr_assert_eq(read(fd, p, (size_t)st.st_size), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return p;
}

Test(exekind, go_is_recognised_by_its_sections_when_its_note_is_gone)
{
    size_t len;
    uint8_t *p = slurp(GONODE, &len);
    Elf64_Ehdr eh;
    memcpy(&eh, p, sizeof(eh));
    unsigned notes = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, p + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type == PT_NOTE) {
            ph.p_type = PT_NULL;
            memcpy(p + eh.e_phoff + i * sizeof(ph), &ph, sizeof(ph));
            notes++;
        }
    }
    cr_assert_gt(notes, 0, "Go's linker writes a build-ID note");
    struct mem m = {p, len};
    struct exekind k;
    cr_assert_eq(exekind_classify(mem_read, &m, &k), 0);
    cr_assert(k.go, ".go.buildinfo says Go");
    free(p);
}

Test(exekind, truncated_and_foreign_bytes_are_unknown)
{
    size_t len;
    uint8_t *p = slurp(CLOCK_PROBE, &len);
    struct exekind k;
    /* Every cut of the headers classifies without reading past the end. */
    for (size_t cut = 0; cut < 4096; cut += 7) {
        struct mem m = {p, cut};
        cr_assert_eq(exekind_classify(mem_read, &m, &k), 0, "cut %zu", cut);
        cr_assert(k.type == EXEKIND_UNKNOWN || k.type == EXEKIND_DYNAMIC, "cut %zu", cut);
    }
    /* A 32-bit ELF, and one with an absurd count of program headers. */
    uint8_t *q = malloc(len);
    memcpy(q, p, len);
    q[EI_CLASS] = ELFCLASS32;
    struct mem m = {q, len};
    cr_assert_eq(exekind_classify(mem_read, &m, &k), 0);
    cr_assert_eq(k.type, EXEKIND_UNKNOWN);
    memcpy(q, p, len);
    Elf64_Ehdr eh;
    memcpy(&eh, q, sizeof(eh));
    eh.e_phnum = 60000;
    memcpy(q, &eh, sizeof(eh));
    cr_assert_eq(exekind_classify(mem_read, &m, &k), 0);
    cr_assert_eq(k.type, EXEKIND_UNKNOWN);
    static const uint8_t junk[] = "not a program at all";
    struct mem j = {junk, sizeof(junk)};
    cr_assert_eq(exekind_classify(mem_read, &j, &k), 0);
    cr_assert_eq(k.type, EXEKIND_UNKNOWN);
    free(q);
    free(p);
}

/* ==== Scripts ==== */

static char dir[64];

static void script_write(const char *name, const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void dir_setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/eddy-exekind-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void dir_teardown(void)
{
    static const char names[][8] = {"a", "b", "c", "loop"};
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        char p[128];
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

Test(exekind, scripts_follow_their_interpreter, .init = dir_setup, .fini = dir_teardown)
{
    char a[128], b[128], c[128], text[300];
    script_write("a", "#!/bin/sh\nexec true\n", a, sizeof(a));
    struct exekind k;
    bool script;
    classify(a, &k, &script);
    cr_assert(script);
    cr_assert_eq(k.type, EXEKIND_DYNAMIC, "/bin/sh is what runs");
    /* A script whose interpreter is a script whose interpreter is the static probe. */
    snprintf(text, sizeof(text), "#!  %s -x\n", CLOCK_PROBE_STATIC);
    script_write("b", text, b, sizeof(b));
    snprintf(text, sizeof(text), "#!%s\n", b);
    script_write("c", text, c, sizeof(c));
    classify(c, &k, &script);
    cr_assert(script);
    cr_assert_eq(k.type, EXEKIND_STATIC);
    char loop[128];
    snprintf(text, sizeof(text), "#!%s/loop\n", dir);
    script_write("loop", text, loop, sizeof(loop));
    cr_assert_eq(exekind_file(loop, &k, NULL), -ELOOP, "the kernel gives up too");
    cr_assert_eq(exekind_file("/nonexistent/eddy-node", &k, NULL), -ENOENT);
}
