/*
 * test_vdsomap.c: the checks on eddy's vDSO image and the reading of the kernel's, in-process.
 * (Mapping the image into live programs is test_clocksys's.)
 * Depends on: vdsomap, eddyvdso.so.
 */
#include "vdsomap.h"
#include "eddy/util.h"

#include <criterion/criterion.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

static uint8_t *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert_geq(fd, 0, "%s", path);
    struct stat st;
    cr_assert_eq(fstat(fd, &st), 0);
    uint8_t *p = malloc((size_t)st.st_size);
    cr_assert_eq(read(fd, p, (size_t)st.st_size), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return p;
}

Test(vdsomap, the_built_image_passes_and_the_kernel_vdso_is_read)
{
    size_t len;
    uint8_t *img = slurp(CLOCK_VDSO, &len);
    cr_assert_eq(vdsomap_check(img, len), 0);
    uint64_t off[VDSOMAP_FUNCS];
    cr_assert_eq(vdsomap_kernel_symbols((const uint8_t *)getauxval(AT_SYSINFO_EHDR), off), 0);
    cr_assert_neq(off[VDSOMAP_CLOCK_GETTIME], VDSOMAP_NONE);
    cr_assert_neq(off[VDSOMAP_GETTIMEOFDAY], VDSOMAP_NONE);
    struct vdsomap_image loaded;
    char why[200];
    cr_assert_eq(vdsomap_load(CLOCK_VDSO, &loaded, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(loaded.len, len);
    cr_assert_eq(memcmp(loaded.real_off, off, sizeof(off)), 0);
    vdsomap_free(&loaded);
    free(img);
}

/* The dynamic section of an image, for spoiling it. */
static Elf64_Dyn *dynamic(uint8_t *img)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    Elf64_Phdr *ph = (Elf64_Phdr *)(img + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_DYNAMIC)
            return (Elf64_Dyn *)(img + ph[i].p_offset);
    cr_assert_fail("no PT_DYNAMIC");
    return NULL;
}

Test(vdsomap, anything_but_eddys_image_is_refused)
{
    size_t len;
    uint8_t *img = slurp(CLOCK_VDSO, &len);
    uint8_t *bad = malloc(len);
    /* The loaded segment must be whole (what follows it, section headers, is not copied). */
    const Elf64_Phdr *load = (const Elf64_Phdr *)(img + ((const Elf64_Ehdr *)img)->e_phoff);
    cr_assert_eq(load->p_type, PT_LOAD);
    for (size_t cut = 0; cut < load->p_filesz; cut += 97)
        cr_assert_eq(vdsomap_check(img, cut), -ENOEXEC, "cut at %zu", cut);
    cr_assert_eq(vdsomap_check(img, load->p_filesz), 0);
    /* A relocation entry: the image would need a loader. */
    memcpy(bad, img, len);
    Elf64_Dyn *d = dynamic(bad);
    while (d->d_tag != DT_NULL && d->d_tag != DT_SYMBOLIC && d->d_tag != DT_FLAGS)
        d++;
    cr_assert_neq(d->d_tag, DT_NULL);
    d->d_tag = DT_RELA;
    cr_assert_eq(vdsomap_check(bad, len), -ENOEXEC);
    /* A segment that does not start at address 0. */
    memcpy(bad, img, len);
    Elf64_Phdr *ph = (Elf64_Phdr *)(bad + ((Elf64_Ehdr *)bad)->e_phoff);
    ph[0].p_vaddr = 0x1000;
    cr_assert_eq(vdsomap_check(bad, len), -ENOEXEC);
    /* No clock_gettime exported. */
    memcpy(bad, img, len);
    char *name = memmem(bad, len, "__vdso_clock_gettime", 20);
    cr_assert_not_null(name);
    name[2] = 'X';
    cr_assert_eq(vdsomap_check(bad, len), -ENOEXEC);
    free(bad);
    free(img);
}
