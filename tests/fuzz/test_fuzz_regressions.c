/*
 * test_fuzz_regressions.c: every saved fuzz input, replayed through its target in `make test`.
 *
 * tests/fuzz/regressions/<target>/ holds the inputs that once broke a target, plus one
 * interesting input each so that no directory is empty; tests/fuzz/corpus/<target>/ holds the
 * seeds. Each file goes through the entry point libFuzzer calls, compiled here without libFuzzer
 * (every fuzz_<target>.c under its own FUZZ_ENTRY name, see regressions.cmake), in sorted order
 * and in one process per directory as a fuzzing session would run them, so the harness's
 * invariants are checked in every build, sanitized or not. A broken invariant aborts the test
 * (Criterion reports it as crashed), and a signal handler, or the sanitizers' death callback,
 * first names the file being replayed. Under LeakSanitizer each directory must leak nothing.
 * Depends on: the five fuzz targets, Criterion, libc.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#define ASSERT_NO_LEAKS() cr_assert(__lsan_do_recoverable_leak_check() == 0, "memory leaked")
#else
#define ASSERT_NO_LEAKS() ((void)0)
#endif

int fuzz_node_input_one(const uint8_t *data, size_t size);
int fuzz_node_output_one(const uint8_t *data, size_t size);
int fuzz_scenario_one(const uint8_t *data, size_t size);
int fuzz_json_one(const uint8_t *data, size_t size);
int fuzz_clocktrap_one(const uint8_t *data, size_t size);

typedef int fuzz_entry(const uint8_t *data, size_t size);

/* ==== Naming the input that crashed ==== */

static char replaying[8192]; /* "replaying PATH\n" while an input runs, else empty */

static void say_replaying(void)
{
    size_t n = strlen(replaying);
    if (n && write(STDERR_FILENO, replaying, n) < 0)
        return;
}

static void crash_handler(int sig)
{
    say_replaying();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void watch_crashes(void)
{
    signal(SIGABRT, crash_handler);
    signal(SIGSEGV, crash_handler);
    signal(SIGBUS, crash_handler);
    signal(SIGFPE, crash_handler);
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_set_death_callback(say_replaying);
#endif
}

/* ==== Replaying ==== */

/* Reads a whole file into a buffer of exactly its size (so that ASan sees an over-read). */
static uint8_t *read_input(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    cr_assert(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    cr_assert(n >= 0);
    rewind(f);
    uint8_t *data = malloc(n > 0 ? (size_t)n : 1);
    cr_assert(data);
    cr_assert(fread(data, 1, (size_t)n, f) == (size_t)n, "short read of %s", path);
    fclose(f);
    *len = (size_t)n;
    return data;
}

static int not_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Replays every file of EDDY_SOURCE_DIR/tests/fuzz/<kind>/<target>, which must hold some. */
static void replay_dir(const char *kind, const char *target, fuzz_entry *entry)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tests/fuzz/%s/%s", EDDY_SOURCE_DIR, kind, target);
    struct dirent **names;
    int n = scandir(dir, &names, not_hidden, alphasort);
    cr_assert(n > 0, "no inputs in %s", dir);
    watch_crashes();
    for (int i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        size_t len;
        uint8_t *data = read_input(path, &len);
        snprintf(replaying, sizeof(replaying), "fuzz regression: replaying %s\n", path);
        entry(data, len);
        replaying[0] = '\0';
        free(data);
        free(names[i]);
    }
    free(names);
    ASSERT_NO_LEAKS();
}

Test(fuzz_regressions, node_input)
{
    replay_dir("regressions", "node_input", fuzz_node_input_one);
}

Test(fuzz_regressions, node_output)
{
    replay_dir("regressions", "node_output", fuzz_node_output_one);
}

Test(fuzz_regressions, scenario)
{
    replay_dir("regressions", "scenario", fuzz_scenario_one);
}

Test(fuzz_regressions, json)
{
    replay_dir("regressions", "json", fuzz_json_one);
}

Test(fuzz_regressions, clocktrap)
{
    replay_dir("regressions", "clocktrap", fuzz_clocktrap_one);
}

Test(fuzz_seeds, clocktrap)
{
    replay_dir("corpus", "clocktrap", fuzz_clocktrap_one);
}

Test(fuzz_seeds, node_input)
{
    replay_dir("corpus", "node_input", fuzz_node_input_one);
}

Test(fuzz_seeds, node_output)
{
    replay_dir("corpus", "node_output", fuzz_node_output_one);
}

Test(fuzz_seeds, scenario)
{
    replay_dir("corpus", "scenario", fuzz_scenario_one);
}

Test(fuzz_seeds, json)
{
    replay_dir("corpus", "json", fuzz_json_one);
}
