/*
 * test_verdict.c: the run's verdict (verdict.h).
 *
 * By default the verdict is Maelstrom's compose: false beats unknown beats true over perf,
 * timeline, exceptions, stats, availability, net and workload; eddy's protocol checker counts
 * only when the run is strict; a run that broke is unknown. Exit statuses are Jepsen's, and
 * --test-count keeps the worst.
 * Depends on: verdict.
 */
#include "verdict.h"

#include <criterion/criterion.h>

#include <string.h>

Test(verdict, everything_true_is_valid)
{
    struct verdict_input in = {0};
    cr_expect_eq(verdict_compose(&in), V_TRUE);
    in.strict = true;
    cr_expect_eq(verdict_compose(&in), V_TRUE);
}

Test(verdict, protocol_counts_only_when_strict)
{
    struct verdict_input in = {0};
    in.part[VERDICT_PROTOCOL] = V_FALSE;
    cr_expect_eq(verdict_compose(&in), V_TRUE, "Maelstrom's verdict ignores protocol problems");
    cr_expect(!verdict_counts(VERDICT_PROTOCOL, false));
    in.strict = true;
    cr_expect_eq(verdict_compose(&in), V_FALSE, "--strict makes them fail the run");
    cr_expect(verdict_counts(VERDICT_PROTOCOL, true));
}

Test(verdict, every_maelstrom_checker_counts)
{
    for (int p = 0; p < VERDICT_PART_COUNT; p++) {
        if (p == VERDICT_PROTOCOL)
            continue;
        struct verdict_input in = {0};
        in.part[p] = V_FALSE;
        cr_expect_eq(verdict_compose(&in), V_FALSE, "%s", verdict_part_name(p));
        in.part[p] = V_UNKNOWN;
        cr_expect_eq(verdict_compose(&in), V_UNKNOWN, "%s", verdict_part_name(p));
        cr_expect(verdict_counts((enum verdict_part)p, false));
    }
}

Test(verdict, false_beats_unknown_beats_true)
{
    cr_expect_eq(verdict_merge(V_TRUE, V_UNKNOWN), V_UNKNOWN);
    cr_expect_eq(verdict_merge(V_UNKNOWN, V_FALSE), V_FALSE);
    cr_expect_eq(verdict_merge(V_FALSE, V_TRUE), V_FALSE);
    struct verdict_input in = {0};
    in.part[VERDICT_WORKLOAD] = V_UNKNOWN;
    in.part[VERDICT_AVAILABILITY] = V_FALSE;
    cr_expect_eq(verdict_compose(&in), V_FALSE);
}

Test(verdict, a_broken_run_is_unknown_unless_invalid)
{
    struct verdict_input in = {.broke = true};
    cr_expect_eq(verdict_compose(&in), V_UNKNOWN);
    in.part[VERDICT_WORKLOAD] = V_FALSE;
    cr_expect_eq(verdict_compose(&in), V_FALSE);
}

Test(verdict, names_lines_and_statuses)
{
    cr_expect_str_eq(verdict_part_name(VERDICT_PROTOCOL), "protocol");
    cr_expect_str_eq(verdict_part_name(VERDICT_WORKLOAD), "workload");
    cr_expect(strstr(verdict_line(V_TRUE), "Everything looks good!"));
    cr_expect(strstr(verdict_line(V_FALSE), "Analysis invalid!"));
    cr_expect(strstr(verdict_line(V_UNKNOWN), "Errors occurred during analysis"));
    cr_expect_eq(verdict_exit_status(V_TRUE), 0);
    cr_expect_eq(verdict_exit_status(V_FALSE), 1);
    cr_expect_eq(verdict_exit_status(V_UNKNOWN), 2);
}

Test(verdict, the_worst_status_wins)
{
    cr_expect_eq(verdict_worse_status(0, 2), 2);
    cr_expect_eq(verdict_worse_status(2, 1), 1);
    cr_expect_eq(verdict_worse_status(1, 2), 1);
    cr_expect_eq(verdict_worse_status(1, 255), 255);
    cr_expect_eq(verdict_worse_status(255, 0), 255);
    cr_expect_eq(verdict_worse_status(0, 0), 0);
}

Test(verdict, availability_as_maelstrom_computes_it)
{
    cr_expect_eq(verdict_availability(AVAILABILITY_NONE, 0, 0, 10), V_TRUE, "not checked");
    cr_expect_eq(verdict_availability(AVAILABILITY_TOTAL, 0, 10, 10), V_TRUE);
    cr_expect_eq(verdict_availability(AVAILABILITY_TOTAL, 0, 9, 10), V_FALSE);
    cr_expect_eq(verdict_availability(AVAILABILITY_TOTAL, 0, 0, 0), V_TRUE, "1 when no op");
    cr_expect_eq(verdict_availability(AVAILABILITY_FRACTION, 0.5, 9, 10), V_TRUE);
    cr_expect_eq(verdict_availability(AVAILABILITY_FRACTION, 0.95, 9, 10), V_FALSE);
    cr_expect_eq(verdict_availability(AVAILABILITY_FRACTION, 0.9, 10, 10), V_TRUE);
    /* Clojure's (<= 0.9 (float 9/10)) is false: the float 0.89999998 is below the double 0.9,
     * so Maelstrom fails --availability 0.9 with 9 ops of 10 ok, and so does eddy. */
    cr_expect_eq(verdict_availability(AVAILABILITY_FRACTION, 0.9, 9, 10), V_FALSE);
    cr_expect_eq(verdict_availability(AVAILABILITY_FRACTION, 0.75, 3, 4), V_TRUE,
                 "exact in binary: equal passes");
    /* (float (/ ok invokes)): one op of 2^25 + 2 that is not ok rounds to 1.0 and passes
     * total, as in Maelstrom; with a double it would not. Of 2^24 + 2, it does not round. */
    uint64_t n = (1ull << 25) + 2;
    cr_expect_eq(verdict_ok_fraction(n - 1, n), 1.0f);
    cr_expect_eq(verdict_availability(AVAILABILITY_TOTAL, 0, n - 1, n), V_TRUE);
    n = (1ull << 24) + 2;
    cr_expect_lt(verdict_ok_fraction(n - 1, n), 1.0f);
    cr_expect_eq(verdict_availability(AVAILABILITY_TOTAL, 0, n - 1, n), V_FALSE);
    cr_expect_eq(verdict_availability(AVAILABILITY_TOTAL, 0, 999, 1000), V_FALSE);
}
