/*
 * test_report_html.c: report.html as a whole, from result maps.
 *
 * Each test writes a page with report_html_write() and hands it to check_html.py, which parses
 * it with Python's XML parser, checks that it is self-contained, and compares its marks, bars,
 * fault spans, arrows and table rows with what the result map implies (or with exact counts
 * given here). The maps are the sample runs in fixtures/ and hand-made edge cases: an empty
 * map, zero ops, no faults, hostile strings, a broken run, and the largest map eddy writes.
 * One test feeds the checker broken pages, to show that it can fail.
 * Depends on: report_html, check_html.py (python3).
 */
#include "report_html.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define ASSERT_NO_LEAKS() cr_assert(__lsan_do_recoverable_leak_check() == 0, "memory leaked")
#else
#define ASSERT_NO_LEAKS() ((void)0)
#endif

#define HERE EDDY_SOURCE_DIR "/tests/sim/report"
#define CHECK_HTML HERE "/check_html.py"

/* ==== Fixture: a private directory for the page and its map ==== */

static char dir[64];
static char page_path[128];
static char results_path[128];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/eddy-report-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(page_path, sizeof(page_path), "%s/report.html", dir);
    snprintf(results_path, sizeof(results_path), "%s/results.json", dir);
}

static void teardown(void)
{
    unlink(page_path);
    unlink(results_path);
    char other[160];
    snprintf(other, sizeof(other), "%s/broken.html", dir);
    unlink(other);
    rmdir(dir);
}

TestSuite(report_html, .init = setup, .fini = teardown);

/* ==== Helpers ==== */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    cr_assert_not_null(b);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return b;
}

static cJSON *fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/fixtures/%s", HERE, name);
    char *text = slurp(path, NULL);
    cJSON *r = cJSON_Parse(text);
    cr_assert_not_null(r, "%s is not JSON", path);
    free(text);
    return r;
}

static cJSON *parse(const char *json)
{
    cJSON *r = cJSON_Parse(json);
    cr_assert_not_null(r, "bad test JSON: %.80s", json);
    return r;
}

/* Writes results.json (for the checker) and the page; returns the page's text. Takes r. */
static char *render(cJSON *r)
{
    char *text = cJSON_PrintUnformatted(r);
    FILE *f = fopen(results_path, "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    cJSON_free(text);
    char err[256] = "";
    int rc = report_html_write(r, page_path, err, sizeof(err));
    cr_assert_eq(rc, 0, "report_html_write: %d %s", rc, err);
    cJSON_Delete(r);
    return slurp(page_path, NULL);
}

/* Runs check_html.py on path with the map and extra arguments; its exit status. A quiet run
 * (one expected to fail) keeps the checker's complaints out of the test log. */
static int check(const char *path, const char *extra, bool quiet)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s' --results '%s' %s%s", PYTHON3, CHECK_HTML, path,
             results_path, extra ? extra : "", quiet ? " >/dev/null 2>&1" : "");
    int st = system(cmd);
    cr_assert(st != -1 && WIFEXITED(st), "could not run: %s", cmd);
    return WEXITSTATUS(st);
}

static void expect_check(const char *extra)
{
    cr_expect_eq(check(page_path, extra, false), 0, "check_html.py failed on %s (map %s)",
                 page_path, results_path);
}

static size_t occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ==== The sample runs ==== */

Test(report_html, a_run_with_faults_and_clock_offsets)
{
    char *page = render(fixture("valid-faults.json"));
    expect_check("--expect svg=5 --expect clock_lines=5 --expect not_applied_rows=10");
    cr_expect(strstr(page, "id=\"verdict\" class=\"verdict valid\""));
    cr_expect(strstr(page, "id=\"plot-clocks\""));
    cr_expect(strstr(page, "<td>not applied</td>"));
    cr_expect(strstr(page, "eddy test -w unique-ids --bin /work/main/build/bin/eddy-node"));
    cr_expect(strstr(page, "class=\"shade\" data-kind=\"kill\""));
    cr_expect(strstr(page, "class=\"shade\" data-kind=\"partition\""));
    cr_expect(strstr(page, "class=\"fault-na\" data-kind=\"pause\""));
    free(page);
    ASSERT_NO_LEAKS();
}

Test(report_html, duplicated_ids_are_listed_with_every_op)
{
    char *page = render(fixture("invalid-dups.json"));
    /* 381 duplicated IDs, each returned by 3 ops: the table stops at 200. */
    expect_check("--expect dup_rows=200 --expect faults=0 --expect shades=0");
    cr_expect(strstr(page, "class=\"verdict invalid\""));
    cr_expect(strstr(page, "Showing the first 200 of 381 duplicated IDs"));
    cr_expect(strstr(page, "<tr class=\"dup\"><td><code>1</code></td><td class=\"num\">3</td>"));
    cr_expect(strstr(page, "0.000069 s · n2 → c6 · process 2 · index 1"));
    cr_expect_eq(occurrences(page, "<li>") - occurrences(page, "<li><code>"), 600);
    cr_expect(strstr(page, "<code>48</code> ×3"), "Maelstrom's duplicated map");
    free(page);
}

Test(report_html, an_echo_run)
{
    char *page = render(fixture("echo.json"));
    expect_check("--expect svg=4 --expect arrows=292 --expect marks_ok=146");
    cr_expect_null(strstr(page, "id=\"plot-clocks\""));
    cr_expect(strstr(page, "No clock faults in this run."));
    free(page);
}

/* ==== Exact counts on a small hand-made run ==== */

static const char small_run[] =
    "{\"valid?\":false,\"seed\":1,"
    "\"eddy\":{\"command\":\"eddy test -w unique-ids --seed 1\",\"workload\":\"unique-ids\","
    "\"time-limit\":3},"
    "\"workload\":{\"valid?\":false,\"duplicates\":[{\"id\":\"x\",\"count\":2,\"ops\":["
    "{\"index\":1,\"time\":1000,\"process\":0,\"node\":\"n0\",\"client\":\"c2\"},"
    "{\"history-offset\":99,\"time\":2000,\"process\":1,\"node\":\"n1\",\"client\":\"c3\"}]}],"
    "\"duplicated\":{\"x\":2}},"
    "\"nodes\":{\"n0\":{\"ops\":2,\"ok\":1},\"n1\":{\"ops\":1,\"ok\":1}},"
    "\"protocol\":{\"valid?\":false,\"violations\":[{\"node\":\"n1\",\"line-number\":3,"
    "\"time\":5,\"class\":\"mute\",\"reason\":\"not JSON\",\"line\":\"oops\","
    "\"maelstrom\":\"muted\"}]},"
    "\"faults\":{\"events\":["
    "{\"time\":500000000,\"f\":\"start-partition\",\"kind\":\"partition\",\"applied\":true,"
    "\"detail\":\"one: n0 drops n1; n1 drops n0\"},"
    "{\"time\":800000000,\"f\":\"stop-partition\",\"kind\":\"partition\",\"applied\":true,"
    "\"detail\":\"network healed\"},"
    "{\"time\":1000000000,\"f\":\"kill\",\"kind\":\"kill\",\"applied\":true,"
    "\"detail\":\"kill n1 (SIGKILL to its process group)\"},"
    "{\"time\":1500000000,\"f\":\"pause\",\"kind\":\"pause\",\"applied\":false,"
    "\"detail\":\"pause n1: down\"},"
    "{\"time\":1600000000,\"f\":\"clock-bump\",\"kind\":\"clock\",\"applied\":true,"
    "\"detail\":\"clock-bump n0: delta 5 ms\"},"
    "{\"time\":2000000000,\"f\":\"start\",\"kind\":\"kill\",\"applied\":true,"
    "\"detail\":\"restart n1 (incarnation 1)\"}],"
    "\"clocks\":{\"n0\":{\"controlled\":true,\"library-loaded\":true,\"reads\":4,"
    "\"offsets\":[[0,0],[1.6,5],[3,5]]},\"n1\":{\"controlled\":true,\"library-loaded\":false,"
    "\"reads\":0,\"offsets\":[[0,0]]}}},"
    "\"plot\":{\"bucket-seconds\":1,\"buckets\":["
    "{\"t\":0,\"ok\":1,\"fail\":0,\"info\":0,\"p50-ms\":0.1,\"p99-ms\":0.2,\"max-ms\":0.2},"
    "{\"t\":1,\"ok\":0,\"fail\":1,\"info\":1,\"p50-ms\":5,\"p99-ms\":5000,\"max-ms\":5000}],"
    "\"samples\":[[0.1,0.1,\"ok\",\"n0\"],[1.2,5,\"fail\",\"n0\"],[1.3,5000,\"info\",\"n1\"],"
    "[1.4,1,\"bogus\",\"n1\"],[\"x\"]],"
    "\"messages\":[{\"from\":\"c2\",\"to\":\"n0\",\"send\":0.1,\"recv\":0.1,\"type\":\"generate\","
    "\"dropped\":false},{\"from\":\"n0\",\"to\":\"c2\",\"send\":0.1001,\"recv\":0.1001,"
    "\"type\":\"generate_ok\",\"dropped\":false},{\"from\":\"n0\",\"to\":\"n1\",\"send\":0.6,"
    "\"type\":\"gossip\",\"dropped\":true}]}}";

Test(report_html, a_small_run_gives_exact_counts)
{
    char *page = render(parse(small_run));
    /* Partition on n0 and n1, kill on n1: 3 lane spans, 2 shades (one per kind); the pause
     * was not applied; the clock bump is an instant; 2 arrows and 1 dropped stub. Two of the
     * five samples are malformed and not drawn. */
    expect_check("--expect marks=3 --expect marks_ok=1 --expect marks_fail=1 --expect marks_info=1"
                 " --expect bars=3 --expect faults=3 --expect shades=2 --expect faults_na=1"
                 " --expect fault_marks=1 --expect arrows=2 --expect stubs=1 --expect dup_rows=1"
                 " --expect violation_rows=1 --expect fault_rows=6 --expect not_applied_rows=1"
                 " --expect clock_lines=2 --expect node_bars=2 --expect svg=5");
    cr_expect(strstr(page, "<td>oops</td>") || strstr(page, "<code>oops</code>"));
    cr_expect(strstr(page, "n1 (not loaded)"), "a node without the clock library is flagged");
    cr_expect(strstr(page, "class=\"msg lost\" data-type=\"gossip\""));
    free(page);
}

/* ==== Edge cases ==== */

Test(report_html, an_empty_map_still_gives_a_page)
{
    char *page = render(parse("{}"));
    expect_check("--expect svg=0 --expect dup_rows=0 --expect fault_rows=0");
    cr_expect(strstr(page, "class=\"verdict unknown\""));
    cr_expect(strstr(page, "(command not recorded)"));
    cr_expect(strstr(page, "results.json has no \"plot\" section") ||
              strstr(page, "results.json has no &quot;plot&quot; section"));
    free(page);
}

Test(report_html, zero_ops_and_an_empty_history)
{
    char *page = render(
        parse("{\"valid?\":true,\"stats\":{\"valid?\":true,\"count\":0,\"ok-count\":0},"
              "\"eddy\":{\"time-limit\":0},\"nodes\":{\"n0\":{\"ops\":0,\"ok\":0}},"
              "\"faults\":{\"events\":[],\"clocks\":{}},"
              "\"plot\":{\"bucket-seconds\":0,\"buckets\":[],\"samples\":[],\"messages\":[]}}"));
    expect_check("--expect svg=3 --expect marks=0 --expect bars=0 --expect arrows=0");
    cr_expect(strstr(page, "No messages recorded."));
    cr_expect(strstr(page, "No fault events."));
    cr_expect_null(strstr(page, "nan"), "no NaN coordinates");
    cr_expect_null(strstr(page, "inf\""), "no infinite coordinates");
    free(page);
}

Test(report_html, no_faults_means_no_lanes_and_no_shading)
{
    cJSON *r = fixture("echo.json");
    cr_assert_not_null(cJSON_GetObjectItem(r, "faults"));
    char *page = render(r);
    expect_check("--expect faults=0 --expect shades=0 --expect faults_na=0");
    cr_expect_null(strstr(page, "class=\"lanes\""));
    cr_expect_null(strstr(page, "class=\"legend-faults\""));
    free(page);
}

Test(report_html, absurd_numbers_stay_finite_and_small)
{
    char *page = render(
        parse("{\"valid?\":true,\"eddy\":{\"time-limit\":-5},\"nodes\":{\"n0\":{\"ops\":1e308,"
              "\"ok\":-1}},\"faults\":{\"events\":[{\"time\":1e308,\"f\":\"kill\",\"kind\":"
              "\"kill\",\"applied\":true,\"detail\":\"kill n0\"},{\"time\":-1e308,\"f\":\"start\","
              "\"kind\":\"kill\",\"applied\":true,\"detail\":\"restart n0\"}],\"clocks\":{\"n0\":"
              "{\"offsets\":[[0,1e308],[1,-1e308],[1e308,0]]}}},"
              "\"plot\":{\"bucket-seconds\":1e-300,\"buckets\":[{\"t\":-1e308,\"ok\":1e308,"
              "\"fail\":1e308,\"info\":1e308,\"p50-ms\":1e308,\"p99-ms\":-1}],\"samples\":"
              "[[1e308,1e308,\"ok\",\"n0\"],[-1e308,0,\"fail\",\"n0\"],[0,-5,\"info\",\"n0\"]],"
              "\"messages\":[{\"from\":\"c1\",\"to\":\"n0\",\"send\":-1e308,\"recv\":1e308,"
              "\"type\":\"t\"},{\"from\":\"n0\",\"to\":\"c1\",\"send\":0,\"recv\":0,"
              "\"type\":\"t\"}]}}"));
    expect_check("--expect marks=3 --expect arrows=2 --expect clock_lines=1 --max-bytes 300000");
    cr_expect_null(strstr(page, "nan"), "no NaN coordinates");
    cr_expect_null(strstr(page, "inf\""), "no infinite coordinates");
    free(page);
}

/* Node names, IDs, a command and a protocol line meant to break out of the markup. */
static cJSON *hostile_map(void)
{
    static const char *const names[] = {"n<1>&\"'", "\xff\xfe-bad", "]]><!--"};
    cJSON *r = parse(small_run);
    cJSON *nodes = cJSON_CreateObject(), *samples = cJSON_CreateArray();
    cJSON *events = cJSON_CreateArray(), *msgs = cJSON_CreateArray();
    for (int i = 0; i < 3; i++) {
        cJSON *n = cJSON_CreateObject();
        cJSON_AddNumberToObject(n, "ops", 10 + i);
        cJSON_AddNumberToObject(n, "ok", 5);
        cJSON_AddItemToObject(nodes, names[i], n);
        char s[128];
        snprintf(s, sizeof(s), "[%d,1,\"ok\",\"x\"]", i);
        cJSON *sample = parse(s);
        cJSON_ReplaceItemInArray(sample, 3, cJSON_CreateString(names[i]));
        cJSON_AddItemToArray(samples, sample);
        cJSON *e = parse("{\"time\":1000000000,\"f\":\"kill\",\"kind\":\"kill\",\"applied\":true}");
        char detail[128];
        snprintf(detail, sizeof(detail), "kill %s (SIGKILL </td>)", names[i]);
        cJSON_AddStringToObject(e, "detail", detail);
        cJSON_AddItemToArray(events, e);
        cJSON *m = parse("{\"send\":0.5,\"recv\":0.6,\"type\":\"<b>&amp;</b>\"}");
        cJSON_AddStringToObject(m, "from", names[i]);
        cJSON_AddStringToObject(m, "to", names[(i + 1) % 3]);
        cJSON_AddItemToArray(msgs, m);
    }
    cJSON_ReplaceItemInObject(r, "nodes", nodes);
    cJSON *plot = cJSON_GetObjectItem(r, "plot");
    cJSON_ReplaceItemInObject(plot, "samples", samples);
    cJSON_ReplaceItemInObject(plot, "messages", msgs);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "faults"), "events", events);
    cJSON *eddy = cJSON_GetObjectItem(r, "eddy");
    cJSON_ReplaceItemInObject(eddy, "command",
                              cJSON_CreateString("eddy test --bin '<script>alert(1)</script>' & "
                                                 "\x01\x1b[0m \xc3\x28"));
    cJSON_ReplaceItemInObject(eddy, "workload", cJSON_CreateString("<i>w</i>"));
    cJSON *dup = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r, "workload"), "duplicates"), 0);
    cJSON_ReplaceItemInObject(dup, "id", cJSON_CreateRaw("{\"</td>\":\"\xe2\x80\"}"));
    cJSON *v = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(r, "protocol"), "violations"), 0);
    cJSON_ReplaceItemInObject(v, "line", cJSON_CreateString("<![CDATA[ & ]]> \x02\xff"));
    cJSON_ReplaceItemInObject(v, "node", cJSON_CreateString(names[0]));
    cJSON_AddStringToObject(r, "error", "a node said \"<oops>\" & died");
    return r;
}

Test(report_html, hostile_strings_are_escaped)
{
    char *page = render(hostile_map());
    /* Parses as XML, and the kill of every hostile node is found in its own lane. */
    expect_check("--expect faults=3 --expect arrows=3 --expect node_bars=3");
    cr_expect_null(strstr(page, "<script"));
    cr_expect_null(strstr(page, "<b>"));
    cr_expect_null(strstr(page, "<i>"));
    cr_expect_null(strstr(page, "<![CDATA["));
    cr_expect_null(strstr(page, "\x01"));
    cr_expect_null(strstr(page, "\xff"));
    cr_expect(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    cr_expect(strstr(page, "n&lt;1&gt;&amp;&quot;&#39;"));
    cr_expect(strstr(page, "\xEF\xBF\xBD\xEF\xBF\xBD-bad"), "invalid bytes become U+FFFD");
    cr_expect(strstr(page, "a node said &quot;&lt;oops&gt;&quot; &amp; died"));
    cr_expect(strstr(page, "{&quot;&lt;/td&gt;&quot;:&quot;\xEF\xBF\xBD"));
    free(page);
}

Test(report_html, a_broken_or_interrupted_run_says_so_at_the_top)
{
    char *page = render(parse("{\"valid?\":\"unknown\",\"error\":\"n1 crashed: <SIGSEGV>\","
                              "\"interrupted\":true,\"interrupted-by\":\"Interrupt\","
                              "\"eddy\":{\"history-error\":\"history.jsonl is incomplete\"}}"));
    expect_check(NULL);
    const char *error = strstr(page, "id=\"error\">The run broke: n1 crashed: &lt;SIGSEGV&gt;");
    const char *intr = strstr(page, "id=\"interrupted\">Interrupted by Interrupt");
    const char *plots = strstr(page, "<section");
    cr_assert(error && intr && plots);
    cr_expect(error < plots && intr < plots, "the alerts come before every section");
    cr_expect(strstr(page, "history.jsonl is incomplete"));
    free(page);
}

/* ==== The largest map eddy writes ==== */

/* An array of n items, item i parsed from fmt with (i, i % mod, i % 3). The formats are this
 * file's own literals, passed through one helper. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static cJSON *array_of(const char *fmt, int n, int mod)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        char s[256];
        snprintf(s, sizeof(s), fmt, i, i % mod, i % 3);
        cJSON_AddItemToArray(a, parse(s));
    }
    return a;
}
#pragma GCC diagnostic pop

Test(report_html, the_page_stays_small_for_the_largest_maps, .timeout = 120)
{
    cJSON *r = parse(small_run);
    cJSON *plot = cJSON_GetObjectItem(r, "plot");
    /* 4000 samples, 240 buckets, 400 messages among 4 nodes and 100 clients. */
    cJSON_ReplaceItemInObject(plot, "samples",
                              array_of("[%d.5e-3,%d.5,\"ok\",\"n%d\"]", 4000, 900));
    cJSON_ReplaceItemInObject(plot, "buckets",
                              array_of("{\"t\":%d,\"ok\":%d,\"fail\":%d,\"info\":1,\"p50-ms\":1,"
                                       "\"p99-ms\":9}",
                                       240, 50));
    cJSON_ReplaceItemInObject(
        plot, "messages",
        array_of("{\"from\":\"c%d\",\"to\":\"n%d\",\"send\":%d,\"recv\":1e9,\"type\":\"t\"}", 400,
                 4));
    /* 4096 nodes, 20000 fault events, 32 clocks of 20000 offsets, 1000 duplicated IDs with 50
     * ops, 100 violations of 100 KB each. */
    cJSON *nodes = cJSON_CreateObject();
    for (int i = 0; i < 4096; i++) {
        char name[16];
        snprintf(name, sizeof(name), "n%d", i);
        cJSON_AddItemToObject(nodes, name, parse("{\"ops\":100,\"ok\":90,\"muted\":false}"));
    }
    cJSON_ReplaceItemInObject(r, "nodes", nodes);
    cJSON *faults = cJSON_GetObjectItem(r, "faults");
    cJSON *events = cJSON_CreateArray();
    for (int i = 0; i < 20000; i++) {
        char e[256];
        snprintf(e, sizeof(e),
                 "{\"time\":%d000000,\"f\":\"%s\",\"kind\":\"kill\",\"applied\":true,"
                 "\"detail\":\"%s n%d (SIGKILL)\"}",
                 i, i % 2 ? "start" : "kill", i % 2 ? "restart" : "kill", i / 2 % 40);
        cJSON_AddItemToArray(events, parse(e));
    }
    cJSON_ReplaceItemInObject(faults, "events", events);
    cJSON *clocks = cJSON_CreateObject();
    for (int i = 0; i < 32; i++) {
        char name[16];
        snprintf(name, sizeof(name), "n%d", i);
        cJSON *c = parse("{\"controlled\":true,\"library-loaded\":true,\"reads\":1}");
        cJSON_AddItemToObject(c, "offsets", array_of("[%d.0e-3,%d]", 20000, 1000 + i));
        cJSON_AddItemToObject(clocks, name, c);
    }
    cJSON_ReplaceItemInObject(faults, "clocks", clocks);
    cJSON *dups = cJSON_CreateArray();
    for (int i = 0; i < 1000; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "id", i);
        cJSON_AddNumberToObject(d, "count", 50);
        cJSON_AddItemToObject(d, "ops",
                              array_of("{\"index\":%d,\"time\":%d,\"process\":%d,\"node\":\"n0\","
                                       "\"client\":\"c1\"}",
                                       50, 1000));
        cJSON_AddItemToArray(dups, d);
    }
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "workload"), "duplicates", dups);
    char *line = malloc(100001);
    cr_assert_not_null(line);
    memset(line, '<', 100000);
    line[100000] = '\0';
    cJSON *viol = cJSON_CreateArray();
    for (int i = 0; i < 100; i++) {
        cJSON *v = parse("{\"node\":\"n1\",\"line-number\":1,\"time\":1,\"class\":\"mute\"}");
        cJSON_AddStringToObject(v, "line", line);
        cJSON_AddItemToArray(viol, v);
    }
    free(line);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(r, "protocol"), "violations", viol);

    char *page = render(r);
    size_t len = strlen(page);
    cr_log_info("the largest map gives a page of %zu bytes", len);
    cr_expect_lt(len, (size_t)(4u << 20), "the page has %zu bytes", len);
    expect_check("--max-bytes 4194304 --expect marks=4000 --expect dup_rows=200"
                 " --expect fault_rows=1000 --expect violation_rows=100 --expect node_bars=64"
                 " --expect clock_lines=32");
    cr_expect(strstr(page, "more not drawn"), "spans past SPAN_MAX are counted, not drawn");
    cr_expect(strstr(page, "19000 more events in results.json."));
    free(page);
}

/* ==== Errors ==== */

Test(report_html, an_unwritable_path_is_an_error_with_a_reason)
{
    cJSON *r = parse("{}");
    char err[256] = "";
    int rc = report_html_write(r, "/nonexistent-eddy-dir/report.html", err, sizeof(err));
    cr_expect_eq(rc, -ENOENT);
    cr_expect(strstr(err, "cannot write /nonexistent-eddy-dir/report.html"), "err: %s", err);
    /* A good write leaves no temporary file behind. */
    cr_assert_eq(report_html_write(r, page_path, err, sizeof(err)), 0);
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp", page_path);
    cr_expect_neq(access(tmp, F_OK), 0);
    cJSON_Delete(r);
    ASSERT_NO_LEAKS();
}

/* ==== The checker itself ==== */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

Test(report_html, the_checker_rejects_broken_pages)
{
    free(render(parse(small_run)));
    char *good = slurp(page_path, NULL);
    char broken[160];
    snprintf(broken, sizeof(broken), "%s/broken.html", dir);
    cr_assert_eq(check(page_path, NULL, false), 0);

    /* Each edit breaks one promise of the page. */
    static const struct {
        char find[64];
        char replace[96];
    } edits[] = {
        {"</footer>", "&</footer>"},                                      /* not XML */
        {"</footer>", "<script src=\"x.js\"></script></footer>"},         /* a script source */
        {"</footer>", "<a href=\"https://example.org/\">x</a></footer>"}, /* external link */
        {"</footer>", "<img src=\"data:,\"/></footer>"},                  /* an image */
        {"<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"plot-nodes\"", "<svg id=\"plot-nodes\""},
        {"data-type=\"ok\" fill", "data-type=\"fail\" fill"},     /* marks mislabelled */
        {"<line class=\"arrow\"", "<line class=\"stub\""},        /* an arrow less */
        {"class=\"verdict invalid\"", "class=\"verdict valid\""}, /* the wrong verdict */
        {"<tr class=\"dup\">", "<tr>"},                           /* a duplicate row less */
        {"class=\"fault\"", "class=\"x\""},                       /* a fault span less */
        {"id=\"command\">eddy", "id=\"command\">eddie"},          /* another command */
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        const char *at = strstr(good, edits[i].find);
        cr_assert_not_null(at, "edit %zu: \"%s\" not in the page", i, edits[i].find);
        FILE *f = fopen(broken, "w");
        cr_assert_not_null(f);
        fwrite(good, 1, (size_t)(at - good), f);
        fputs(edits[i].replace, f);
        fputs(at + strlen(edits[i].find), f);
        cr_assert_eq(fclose(f), 0);
        cr_expect_neq(check(broken, NULL, true), 0, "edit %zu (%s) passed the checker", i,
                      edits[i].replace);
    }
    /* And a count pinned wrongly fails. */
    cr_expect_neq(check(page_path, "--expect marks=4", true), 0);
    write_file(broken, "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body></body></html>");
    cr_expect_neq(check(broken, NULL, true), 0, "a page without a verdict passed");
    free(good);
}
