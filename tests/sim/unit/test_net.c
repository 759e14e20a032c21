/*
 * test_net.c: the simulated network (net.h): latency, receivers (partitions when a message is
 * taken, head-of-line waits), loss, duplication, determinism and the in-flight limit.
 *
 * The net is driven with injected times: messages are sent at chosen nanoseconds and popped at
 * chosen nanoseconds, so every test is exact and sleeps never. Determinism is checked the way
 * the header promises it: the draws of one link depend on the seed and on that link's own
 * message count only, so the same link's outcomes must not change when other links carry
 * different traffic in between.
 * Depends on: net, grudge, alloc, unitkit.h.
 */
#include "unitkit.h"
#include "net.h"
#include "eddy/alloc.h"

#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS INT64_C(1000000)

static struct net *net_make(uint32_t nodes, double latency_ms, enum latency_dist dist,
                            uint64_t seed)
{
    return net_new(&(struct net_opts){
        .node_count = nodes, .latency_ms = latency_ms, .dist = dist, .seed = seed});
}

/* Sends a line "<net_id>\n" (malloc'd, handed to the net). */
static unsigned send_id(struct net *n, int64_t now_ns, uint32_t src, uint32_t dest, uint64_t id)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof(tmp), "%llu\n", (unsigned long long)id);
    return net_send(n, now_ns, src, dest, id, (uint32_t)id, xstrdup(tmp), (size_t)len);
}

/* Pops one due message; checks that its line is the one sent with its id; frees the line. */
static bool pop(struct net *n, int64_t now_ns, struct net_msg *m)
{
    if (!net_pop_due(n, now_ns, m))
        return false;
    char tmp[32];
    int len = snprintf(tmp, sizeof(tmp), "%llu\n", (unsigned long long)m->net_id);
    CHECK(m->len == (size_t)len && memcmp(m->line, tmp, m->len) == 0,
          "message %llu carries the wrong line", (unsigned long long)m->net_id);
    CHECK(m->tag == (uint32_t)m->net_id, "tag %u for message %llu", m->tag,
          (unsigned long long)m->net_id);
    free(m->line);
    m->line = NULL;
    return true;
}

/* ==== Latency and order ==== */

Test(net, constant_latency_delivers_one_link_in_send_order)
{
    struct net *n = net_make(3, 5, LATENCY_CONSTANT, 1);
    for (uint64_t i = 0; i < 100; i++)
        cr_assert_eq(send_id(n, (int64_t)(i / 10) * 100, 0, 1, i), 1);
    cr_expect_eq(net_in_flight(n), 100);
    struct net_msg m;
    cr_expect(!pop(n, 5 * MS - 1, &m), "nothing is due before the latency has passed");
    cr_expect_eq(net_next_due(n), 5 * MS);
    for (uint64_t i = 0; i < 100; i++) {
        cr_assert(pop(n, INT64_MAX - 1, &m), "message %llu missing", (unsigned long long)i);
        CHECK(m.net_id == i, "message %llu delivered in place of %llu",
              (unsigned long long)m.net_id, (unsigned long long)i);
        CHECK(m.src == 0 && m.dest == 1, "link %u->%u", m.src, m.dest);
        CHECK(m.deliver_at_ns == (int64_t)(i / 10) * 100 + 5 * MS, "message %llu due at %lld",
              (unsigned long long)i, (long long)m.deliver_at_ns);
    }
    cr_expect(!pop(n, INT64_MAX - 1, &m));
    cr_expect_eq(net_next_due(n), INT64_MAX);
    cr_expect_eq(net_stats(n)->delivered, 100);
    net_free(n);
    ASSERT_NO_LEAKS();
}

Test(net, a_latency_beyond_the_clock_range_means_never_not_at_once)
{
    static const enum latency_dist dists[] = {LATENCY_CONSTANT, LATENCY_UNIFORM,
                                              LATENCY_EXPONENTIAL};
    for (size_t d = 0; d < sizeof(dists) / sizeof(dists[0]); d++) {
        struct net *n = net_make(2, 9.3e12, dists[d], 3);
        for (uint64_t i = 0; i < 50; i++)
            cr_assert_eq(send_id(n, 1000 * MS, 0, 1, i), 1);
        /* A uniform or exponential draw may be small; none may wrap to before its send. */
        struct net_msg m;
        while (pop(n, INT64_MAX - 1, &m))
            CHECK(m.deliver_at_ns > 1000 * MS, "dist %zu: due at %lld, sent at %lld", d,
                  (long long)m.deliver_at_ns, (long long)(1000 * MS));
        if (dists[d] == LATENCY_CONSTANT)
            cr_expect_eq(net_in_flight(n), 50, "9.3e12 ms is never within a run");
        net_free(n);
    }
    ASSERT_NO_LEAKS();
}

Test(net, equal_deadlines_pop_in_send_order_across_links)
{
    struct net *n = net_make(4, 0, LATENCY_CONSTANT, 1);
    static const uint32_t links[][2] = {{3, 0}, {0, 1}, {2, 1}, {1, 3}, {0, 2}, {3, 2}};
    for (uint64_t i = 0; i < 6; i++)
        cr_assert_eq(send_id(n, 42, links[i][0], links[i][1], i), 1);
    struct net_msg m;
    for (uint64_t i = 0; i < 6; i++) {
        cr_assert(pop(n, 42, &m));
        cr_expect_eq(m.net_id, i);
        cr_expect_eq(m.deliver_at_ns, 42, "zero latency: due when sent");
    }
    net_free(n);
}

Test(net, messages_are_delivered_by_deadline_not_send_time)
{
    struct net *n = net_make(2, 10, LATENCY_CONSTANT, 1);
    cr_assert_eq(send_id(n, 7 * MS, 0, 1, 1), 1);
    cr_assert_eq(send_id(n, 1 * MS, 1, 0, 2), 1); /* sent "earlier", queued later */
    struct net_msg m;
    cr_assert(pop(n, 100 * MS, &m));
    cr_expect_eq(m.net_id, 2);
    cr_assert(pop(n, 100 * MS, &m));
    cr_expect_eq(m.net_id, 1);
    net_free(n);
}

/* maelstrom net.clj latency-dist: Incanter's (integer-distribution 0 (* 2 mean)) draws from
 * [0, 2*mean), and latency-for truncates to whole ms. */
Test(net, uniform_latency_is_a_whole_number_of_ms_below_twice_the_mean)
{
    struct net *n = net_make(2, 10, LATENCY_UNIFORM, 99);
    double sum = 0;
    bool seen_low = false, seen_high = false;
    for (uint64_t i = 0; i < 20000; i++) {
        send_id(n, 0, 0, 1, i);
        struct net_msg m;
        CHECK(pop(n, INT64_MAX - 1, &m), "message %llu lost", (unsigned long long)i);
        CHECK(m.deliver_at_ns % MS == 0, "latency %lld ns is not whole ms",
              (long long)m.deliver_at_ns);
        CHECK(m.deliver_at_ns >= 0 && m.deliver_at_ns <= 19 * MS, "latency %lld ns",
              (long long)m.deliver_at_ns);
        seen_low |= m.deliver_at_ns == 0;
        seen_high |= m.deliver_at_ns == 19 * MS;
        sum += (double)m.deliver_at_ns / MS;
    }
    double mean = sum / 20000;
    cr_expect(fabs(mean - 9.5) < 0.3, "mean uniform latency %.3f ms, want 9.5", mean);
    cr_expect(seen_low && seen_high, "both ends of [0, 19] ms occur");
    net_free(n);
}

Test(net, exponential_latency_has_the_requested_mean)
{
    struct net *n = net_make(2, 4, LATENCY_EXPONENTIAL, 3);
    double sum = 0;
    for (uint64_t i = 0; i < 20000; i++) {
        send_id(n, 0, 1, 0, i);
        struct net_msg m;
        CHECK(pop(n, INT64_MAX - 1, &m), "message %llu lost", (unsigned long long)i);
        CHECK(m.deliver_at_ns >= 0, "negative latency");
        CHECK(m.deliver_at_ns % MS == 0, "truncated to whole ms, as Maelstrom's (long ...)");
        sum += (double)m.deliver_at_ns / MS;
    }
    /* The mean of floor(X) for X exponential with mean 4 is 1/(e^(1/4) - 1) = 3.52. */
    double mean = sum / 20000;
    cr_expect(fabs(mean - 3.52) < 0.2, "mean exponential latency %.3f ms, want 3.52", mean);
    net_free(n);
}

Test(net, a_zero_mean_gives_no_latency_whatever_the_distribution)
{
    /* Deliberate difference: Maelstrom fails to start (an empty Incanter range, a division by
     * zero); the mean says no latency. */
    for (int d = LATENCY_CONSTANT; d <= LATENCY_EXPONENTIAL; d++) {
        struct net *n = net_make(2, 0, (enum latency_dist)d, 3);
        cr_assert_eq(send_id(n, 5, 0, 1, 1), 1);
        struct net_msg m;
        cr_assert(pop(n, 5, &m), "distribution %d", d);
        cr_expect_eq(m.deliver_at_ns, 5, "distribution %d: no latency", d);
        net_free(n);
    }
}

/* ==== Receivers: partitions when a message is taken, head-of-line waits ==== */

/* maelstrom net.clj recv!: the receiver polls the earliest message, drops it there if its src
 * is in the grudge, else sleeps until it is due. */
Test(net, a_message_taken_before_a_partition_is_delivered_the_next_is_cut)
{
    struct net *n = net_make(3, 5, LATENCY_CONSTANT, 1);
    cr_assert_eq(send_id(n, 0, 0, 1, 1), 1);
    cr_expect(net_receiver_busy(n, 1), "n1's receiver took the message and sleeps on it");
    cr_assert_eq(send_id(n, 1 * MS, 0, 1, 2), 1);
    cr_assert_eq(send_id(n, 1 * MS, 1, 0, 3), 1);
    grudge_drop(net_grudge(n), 1, 0); /* n1 stops hearing n0 */
    cr_expect(net_partitioned(n, 0, 1));
    cr_expect(!net_partitioned(n, 1, 0), "the partition is one-way");
    cr_expect(!net_partitioned(n, NET_SRC_CLIENT, 1), "clients are never partitioned");
    struct net_msg m;
    cr_assert(pop(n, 6 * MS, &m));
    cr_expect_eq(m.net_id, 1, "taken before the partition: delivered");
    cr_assert(pop(n, 6 * MS, &m));
    cr_expect_eq(m.net_id, 3, "n1 -> n0 goes through");
    cr_expect(!pop(n, 6 * MS, &m), "n0 -> n1, taken after the partition began, was cut");
    cr_expect_eq(net_stats(n)->partitioned, 1);
    cr_expect_eq(net_stats(n)->delivered, 2);
    cr_expect_eq(net_in_flight(n), 0);
    cr_expect(!net_receiver_busy(n, 1));
    net_free(n);
    ASSERT_NO_LEAKS();
}

Test(net, a_duplicated_message_cut_at_once_frees_each_copy_once)
{
    /* Both copies are taken, and dropped, as they are queued: each owns its line. */
    struct net *n = net_make(2, 0, LATENCY_CONSTANT, 1);
    net_set_duplicate(n, 1000000);
    grudge_drop(net_grudge(n), 1, 0);
    cr_assert_eq(send_id(n, 0, 0, 1, 1), 2);
    struct net_msg m;
    cr_expect(!pop(n, 20 * MS, &m));
    cr_expect_eq(net_stats(n)->partitioned, 2);
    cr_expect_eq(net_in_flight(n), 0);
    net_free(n);
    ASSERT_NO_LEAKS();
}

Test(net, a_message_sent_during_a_partition_is_cut_even_if_it_heals_before_its_deadline)
{
    /* An idle receiver polls the message as soon as it is sent: the check happens then. */
    struct net *n = net_make(2, 5, LATENCY_CONSTANT, 1);
    grudge_drop(net_grudge(n), 1, 0);
    cr_assert_eq(send_id(n, 0, 0, 1, 1), 1, "sends are accepted during a partition");
    grudge_clear(net_grudge(n));
    struct net_msg m;
    cr_expect(!pop(n, 5 * MS, &m));
    cr_expect_eq(net_stats(n)->partitioned, 1);
    cr_assert_eq(send_id(n, 6 * MS, 0, 1, 2), 1);
    cr_assert(pop(n, 11 * MS, &m), "after healing, messages go through");
    cr_expect_eq(m.net_id, 2);
    net_free(n);
}

Test(net, a_client_request_waits_behind_a_delayed_message)
{
    /* Head-of-line: Maelstrom's receiver sleeps on the message it took; a client's request,
     * with no latency of its own, is delivered when that one is. */
    struct net *n = net_make(2, 10, LATENCY_CONSTANT, 1);
    cr_assert_eq(send_id(n, 0, 0, 1, 1), 1);
    cr_assert(net_receiver_busy(n, 1));
    cr_assert_eq(net_send_client(n, 1 * MS, 1, 2, 2, xstrdup("2\n"), 2), 1);
    struct net_msg m;
    cr_expect(!pop(n, 9 * MS, &m), "nothing before the node's message is due");
    cr_expect_eq(net_next_due(n), 10 * MS);
    cr_assert(pop(n, 10 * MS, &m));
    cr_expect_eq(m.net_id, 1);
    cr_assert(pop(n, 10 * MS, &m), "the request follows at once");
    cr_expect_eq(m.net_id, 2);
    cr_expect_eq(m.src, NET_SRC_CLIENT);
    cr_expect_eq(m.deliver_at_ns, 10 * MS);
    cr_expect(!net_receiver_busy(n, 1));
    net_free(n);
    ASSERT_NO_LEAKS();
}

Test(net, the_earliest_queued_message_goes_next)
{
    /* Behind the one taken, messages go by deadline, then by send order. */
    struct net *n = net_make(3, 10, LATENCY_CONSTANT, 1);
    cr_assert_eq(send_id(n, 0, 0, 2, 1), 1);      /* taken, due at 10 ms */
    cr_assert_eq(send_id(n, 2 * MS, 1, 2, 2), 1); /* due at 12 ms */
    cr_assert_eq(net_send_client(n, 3 * MS, 2, 3, 3, xstrdup("3\n"), 2), 1); /* due at 3 ms */
    cr_assert_eq(net_send_client(n, 4 * MS, 2, 4, 4, xstrdup("4\n"), 2), 1); /* due at 4 ms */
    struct net_msg m;
    static const uint64_t order[] = {1, 3, 4, 2};
    static const int64_t at[] = {10 * MS, 10 * MS, 10 * MS, 12 * MS};
    for (size_t i = 0; i < 4; i++) {
        cr_assert(pop(n, 20 * MS, &m));
        cr_expect_eq(m.net_id, order[i], "message %zu", i);
        cr_expect_eq(m.deliver_at_ns, at[i], "message %zu", i);
    }
    net_free(n);
    ASSERT_NO_LEAKS();
}

Test(net, a_partition_drops_only_the_cut_links)
{
    struct net *n = net_make(3, 1, LATENCY_CONSTANT, 1);
    grudge_drop(net_grudge(n), 2, 0);
    uint64_t id = 0;
    for (uint32_t s = 0; s < 3; s++)
        for (uint32_t d = 0; d < 3; d++)
            if (s != d)
                send_id(n, 0, s, d, id++);
    struct net_msg m;
    unsigned got = 0;
    while (pop(n, MS, &m)) {
        cr_expect(!(m.src == 0 && m.dest == 2), "0 -> 2 should have been dropped");
        got++;
    }
    cr_expect_eq(got, 5);
    cr_expect_eq(net_stats(n)->partitioned, 1);
    net_free(n);
}

Test(net, direct_path_only_without_latency_faults_or_queue)
{
    struct net *n = net_make(2, 0, LATENCY_CONSTANT, 1);
    cr_expect(net_is_direct(n));
    send_id(n, 0, 0, 1, 1);
    cr_expect(!net_is_direct(n), "a queued message must be delivered first");
    struct net_msg m;
    cr_assert(pop(n, 0, &m));
    cr_expect(net_is_direct(n));
    net_set_loss(n, 1);
    cr_expect(!net_is_direct(n));
    net_set_loss(n, 0);
    net_set_duplicate(n, 1);
    cr_expect(!net_is_direct(n));
    net_set_duplicate(n, 0);
    net_count_direct(n, false);
    net_count_direct(n, true);
    cr_expect_eq(net_stats(n)->delivered, 2);
    cr_expect_eq(net_stats(n)->partitioned, 1);
    net_free(n);

    n = net_make(2, 0.5, LATENCY_CONSTANT, 1);
    cr_expect(!net_is_direct(n), "any latency needs the queue");
    net_free(n);
}

/* ==== Loss and duplication ==== */

Test(net, loss_knob_is_clamped_and_counts_losses)
{
    struct net *n = net_make(2, 1, LATENCY_CONSTANT, 5);
    net_set_loss(n, 2000000);
    cr_expect_eq(net_loss_ppm(n), 1000000);
    for (uint64_t i = 0; i < 100; i++)
        CHECK(send_id(n, 0, 0, 1, i) == 0, "message %llu survived total loss",
              (unsigned long long)i);
    cr_expect_eq(net_stats(n)->lost, 100);
    cr_expect_eq(net_in_flight(n), 0);

    net_set_loss(n, 100000); /* 10% */
    unsigned kept = 0;
    for (uint64_t i = 0; i < 20000; i++)
        kept += send_id(n, 0, 0, 1, i);
    double lost = 1.0 - kept / 20000.0;
    cr_expect(fabs(lost - 0.1) < 0.01, "lost %.4f of messages at 10%%", lost);
    cr_expect_eq(net_stats(n)->lost, 100 + (20000 - kept));
    net_free(n);
    ASSERT_NO_LEAKS(); /* every lost line was freed */
}

Test(net, duplication_queues_two_copies_with_one_net_id)
{
    struct net *n = net_make(2, 3, LATENCY_CONSTANT, 5);
    net_set_duplicate(n, 5000000);
    cr_expect_eq(net_duplicate_ppm(n), 1000000);
    cr_assert_eq(send_id(n, 0, 0, 1, 7), 2);
    cr_expect_eq(net_stats(n)->duplicated, 1);
    cr_expect_eq(net_in_flight(n), 2);
    struct net_msg a, b;
    cr_assert(net_pop_due(n, INT64_MAX - 1, &a));
    cr_assert(net_pop_due(n, INT64_MAX - 1, &b));
    cr_expect_eq(a.net_id, 7);
    cr_expect_eq(b.net_id, 7);
    cr_expect_neq(a.line, b.line, "each copy owns its own line");
    cr_expect_eq(a.len, b.len);
    cr_expect_arr_eq(a.line, b.line, a.len);
    cr_expect_eq(a.deliver_at_ns, 3 * MS, "the first copy keeps the latency");
    cr_expect(b.deliver_at_ns >= a.deliver_at_ns && b.deliver_at_ns <= a.deliver_at_ns + 10 * MS,
              "the duplicate trails by at most max(2 x mean, 10 ms): %lld",
              (long long)b.deliver_at_ns);
    free(a.line);
    free(b.line);
    net_free(n);
    ASSERT_NO_LEAKS();
}

Test(net, duplication_rate_follows_the_knob)
{
    struct net *n = net_make(2, 1, LATENCY_CONSTANT, 8);
    net_set_duplicate(n, 250000);
    unsigned copies = 0;
    for (uint64_t i = 0; i < 20000; i++)
        copies += send_id(n, 0, 0, 1, i);
    double dup = (copies - 20000) / 20000.0;
    cr_expect(fabs(dup - 0.25) < 0.015, "duplicated %.4f of messages at 25%%", dup);
    cr_expect_eq(net_stats(n)->duplicated, copies - 20000);
    net_free(n); /* frees every queued line */
    ASSERT_NO_LEAKS();
}

/* ==== Determinism ==== */

/* What happened to one message: copies and each copy's deadline. */
struct fate {
    unsigned copies;
    int64_t at[2];
};

/* Runs 300 messages on link 0->1 (sent at 0, 1 ms, 2 ms ...) with loss, duplication and
 * uniform latency, interleaved with `noise` messages per step on other links, drawn from
 * noise_seed. Records the fate of each 0->1 message by its net id. */
static void run_link(uint64_t seed, unsigned noise, uint64_t noise_seed, struct fate *out)
{
    struct net *n = net_make(4, 20, LATENCY_UNIFORM, seed);
    net_set_loss(n, 200000);
    net_set_duplicate(n, 200000);
    uint64_t x = noise_seed | 1;
    uint64_t noise_id = 1000000;
    memset(out, 0, 300 * sizeof(*out));
    for (uint64_t i = 0; i < 300; i++) {
        for (unsigned k = 0; k < noise; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint32_t s = (uint32_t)(x % 4), d = (uint32_t)((x >> 8) % 4);
            /* Not into node 1: its receiver would make 0->1 wait behind them (head-of-line),
             * which changes delivery times though not the draws. */
            if (s == d || d == 1)
                continue;
            send_id(n, (int64_t)i * MS, s, d, noise_id++);
        }
        out[i].copies = send_id(n, (int64_t)i * MS, 0, 1, i);
    }
    struct net_msg m;
    while (pop(n, INT64_MAX - 1, &m)) {
        if (m.src != 0 || m.dest != 1)
            continue;
        struct fate *f = &out[m.net_id];
        unsigned k = f->at[0] ? 1 : 0;
        if (k == 1 && f->at[1])
            cr_assert_fail("message %llu delivered three times", (unsigned long long)m.net_id);
        f->at[k] = m.deliver_at_ns + 1; /* +1 so that 0 means "not delivered" */
    }
    net_free(n);
}

static bool same_fates(const struct fate *a, const struct fate *b)
{
    for (size_t i = 0; i < 300; i++) {
        if (a[i].copies != b[i].copies)
            return false;
        /* Copies are popped by deadline, so compare the pair as a set. */
        int64_t a0 = a[i].at[0], a1 = a[i].at[1], b0 = b[i].at[0], b1 = b[i].at[1];
        if (!((a0 == b0 && a1 == b1) || (a0 == b1 && a1 == b0)))
            return false;
    }
    return true;
}

Test(net, same_seed_gives_a_link_the_same_draws_whatever_other_links_carry)
{
    static struct fate quiet[300], busy[300], busier[300];
    run_link(1234, 0, 0, quiet);
    run_link(1234, 3, 77, busy);
    run_link(1234, 7, 99, busier);
    unsigned lost = 0, dup = 0;
    for (size_t i = 0; i < 300; i++) {
        lost += quiet[i].copies == 0;
        dup += quiet[i].copies == 2;
    }
    cr_assert(lost > 0 && dup > 0, "the run exercises loss (%u) and duplication (%u)", lost, dup);
    cr_expect(same_fates(quiet, busy), "extra traffic on other links changed link 0->1");
    cr_expect(same_fates(quiet, busier), "extra traffic on other links changed link 0->1");
}

Test(net, different_seeds_give_different_draws)
{
    static struct fate a[300], b[300];
    run_link(1, 0, 0, a);
    run_link(2, 0, 0, b);
    cr_expect(!same_fates(a, b), "seeds 1 and 2 drew identical fates for 300 messages");
}

Test(net, links_draw_independently_of_each_other)
{
    /* The same message number on two links must not share its draws. */
    struct net *n = net_make(3, 50, LATENCY_UNIFORM, 42);
    unsigned same = 0;
    for (uint64_t i = 0; i < 200; i++) {
        send_id(n, 0, 0, 1, 2 * i);
        send_id(n, 0, 0, 2, 2 * i + 1);
    }
    int64_t at[400];
    struct net_msg m;
    while (pop(n, INT64_MAX - 1, &m))
        at[m.net_id] = m.deliver_at_ns;
    for (uint64_t i = 0; i < 200; i++)
        same += at[2 * i] == at[2 * i + 1];
    cr_expect(same < 20, "%u of 200 messages got the same latency on both links", same);
    net_free(n);
}

/* ==== Limits ==== */

Test(net, a_full_queue_counts_the_overflow_and_frees_the_line, .timeout = 120)
{
    struct net *n = net_make(2, 1000, LATENCY_CONSTANT, 1);
    for (uint32_t i = 0; i < NET_QUEUE_MAX; i++) {
        unsigned c = net_send(n, 0, 0, 1, i, 0, xstrdup("x"), 1);
        CHECK(c == 1, "message %u refused before the queue was full", i);
    }
    cr_assert_eq(net_in_flight(n), NET_QUEUE_MAX);
    cr_expect_eq(send_id(n, 0, 0, 1, 1), 0, "the queue is full");
    cr_expect_eq(send_id(n, 0, 1, 0, 2), 0);
    cr_expect_eq(net_stats(n)->overflowed, 2);
    cr_expect_eq(net_in_flight(n), NET_QUEUE_MAX);
    /* Once one message is out, there is room again. */
    struct net_msg m;
    cr_assert(net_pop_due(n, 1000 * MS, &m));
    free(m.line);
    cr_expect_eq(send_id(n, 0, 0, 1, 3), 1);
    net_free(n);
    ASSERT_NO_LEAKS(); /* the overflowed lines were freed */
}

Test(net, a_queue_over_its_byte_limit_counts_the_overflow)
{
    /* The net accounts for `len`; it reads the bytes only to duplicate, which is off here. A
     * short buffer stands for a long line so the test does not need 256 MiB. */
    struct net *n = net_make(2, 1, LATENCY_CONSTANT, 1);
    cr_expect_eq(net_send(n, 0, 0, 1, 1, 0, xstrdup("big"), NET_QUEUE_BYTES_MAX / 2), 1);
    cr_expect_eq(net_send(n, 0, 0, 1, 2, 0, xstrdup("big"), NET_QUEUE_BYTES_MAX / 2), 1);
    cr_expect_eq(net_send(n, 0, 0, 1, 3, 0, xstrdup("x"), 1), 0, "one byte over the limit");
    cr_expect_eq(net_stats(n)->overflowed, 1);
    struct net_msg m;
    cr_assert(net_pop_due(n, MS, &m));
    free(m.line);
    cr_expect_eq(net_send(n, 0, 0, 1, 4, 0, xstrdup("x"), 1), 1, "room again after a delivery");
    net_free(n);
    ASSERT_NO_LEAKS();
}
