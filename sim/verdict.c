/*
 * verdict.c: the run's verdict (see verdict.h).
 *
 * Maelstrom's test map composes its checkers with jepsen.checker/compose (maelstrom
 * src/maelstrom/core.clj, maelstrom-test: perf, timeline, exceptions, stats, availability, net,
 * workload), and compose merges their :valid? by jepsen checker.clj's valid-priorities. Of
 * those, unhandled-exceptions is always valid (jepsen checker.clj) and availability is valid
 * when --availability is absent (maelstrom src/maelstrom/checker.clj), so a node Maelstrom mutes
 * fails its run only through availability, or when no op of some f is ok (stats). eddy's
 * protocol checker sees the same lines and says what Maelstrom would do with each; it decides
 * nothing unless the run is strict.
 * Depends on: config. Used by: report, main.
 */
#include "verdict.h"
#include "eddy/util.h"

static const char *const part_names[] = {
#define XX(e, name) name,
    VERDICT_PART_MAP(XX)
#undef XX
};

enum verdict verdict_merge(enum verdict a, enum verdict b)
{
    return a > b ? a : b;
}

bool verdict_counts(enum verdict_part p, bool strict)
{
    ASSERT(p < VERDICT_PART_COUNT);
    return p != VERDICT_PROTOCOL || strict;
}

enum verdict verdict_compose(const struct verdict_input *in)
{
    enum verdict v = V_TRUE;
    for (int p = 0; p < VERDICT_PART_COUNT; p++)
        if (verdict_counts((enum verdict_part)p, in->strict))
            v = verdict_merge(v, in->part[p]);
    if (in->broke || in->unreached)
        v = verdict_merge(v, V_UNKNOWN);
    return v;
}

float verdict_ok_fraction(uint64_t ok, uint64_t invokes)
{
    /* maelstrom src/maelstrom/checker.clj: (float (/ ok-count invoke-count)), 1 for none. */
    return invokes ? (float)((double)ok / (double)invokes) : 1.0f;
}

enum verdict verdict_availability(enum availability_kind kind, double min, uint64_t ok,
                                  uint64_t invokes)
{
    float f = verdict_ok_fraction(ok, invokes);
    switch (kind) {
    case AVAILABILITY_NONE:
        return V_TRUE;
    case AVAILABILITY_TOTAL:
        return f == 1.0f ? V_TRUE : V_FALSE;
    case AVAILABILITY_FRACTION:
        return min <= (double)f ? V_TRUE : V_FALSE;
    }
    return V_TRUE;
}

const char *verdict_part_name(enum verdict_part p)
{
    ASSERT(p < VERDICT_PART_COUNT);
    return part_names[p];
}

const char *verdict_line(enum verdict v)
{
    /* jepsen core.clj, log-results. */
    switch (v) {
    case V_TRUE:
        return "Everything looks good! ヽ(‘ー`)ノ";
    case V_FALSE:
        return "Analysis invalid! (ﾉಥ益ಥ）ﾉ ┻━┻";
    case V_UNKNOWN:
        break;
    }
    return "Errors occurred during analysis, but no anomalies found. ಠ~ಠ";
}

int verdict_exit_status(enum verdict v)
{
    /* jepsen cli.clj, single-test-cmd: false exits 1, :unknown 2. */
    return v == V_TRUE ? 0 : v == V_FALSE ? 1 : 2;
}

static int status_weight(int status)
{
    switch (status) {
    case 0:
        return 0;
    case 2:
        return 1;
    case 1:
        return 2;
    default:
        return 3; /* 255, 254, 130, 143: the run itself failed */
    }
}

int verdict_worse_status(int a, int b)
{
    return status_weight(b) > status_weight(a) ? b : a;
}
