/*
 * test_grudge.c: partition shapes (grudge.h).
 *
 * Each shape is drawn for many seeds and checked by its structure, not by one particular draw:
 * who drops whom, how many cuts, which direction. The shapes are Maelstrom's (reference §3.3)
 * plus eddy's one-way and bridge.
 * Depends on: grudge, prng, unitkit.h.
 */
#include "unitkit.h"
#include "grudge.h"
#include "eddy/prng.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define SEEDS 200

/* Draws `shape` on n nodes with seed. The caller calls grudge_fini(). */
static void draw(struct grudge *g, uint32_t n, enum partition_shape shape, uint64_t seed)
{
    struct prng r;
    prng_seed(&r, seed, 77);
    grudge_init(g, n);
    grudge_make(g, shape, &r);
}

/* How many nodes `dest` drops. */
static uint32_t drops_of(const struct grudge *g, uint32_t dest)
{
    uint32_t k = 0;
    for (uint32_t s = 0; s < g->n; s++)
        k += grudge_drops(g, dest, s);
    return k;
}

/* How many nodes drop `src`. */
static uint32_t dropped_by(const struct grudge *g, uint32_t src)
{
    uint32_t k = 0;
    for (uint32_t d = 0; d < g->n; d++)
        k += grudge_drops(g, d, src);
    return k;
}

static uint32_t count_bits(const struct grudge *g)
{
    uint32_t k = 0;
    for (uint32_t d = 0; d < g->n; d++)
        k += drops_of(g, d);
    return k;
}

static bool symmetric(const struct grudge *g)
{
    for (uint32_t d = 0; d < g->n; d++)
        for (uint32_t s = 0; s < g->n; s++)
            if (grudge_drops(g, d, s) != grudge_drops(g, s, d))
                return false;
    return true;
}

/* ==== Maelstrom's shapes ==== */

Test(grudge, ring_of_three_is_a_directed_cycle)
{
    for (uint64_t seed = 0; seed < SEEDS; seed++) {
        struct grudge g;
        draw(&g, 3, SHAPE_MAJORITIES_RING, seed);
        CHECK(g.cuts == 3, "seed %llu: %u cuts, want 3", (unsigned long long)seed, g.cuts);
        CHECK(count_bits(&g) == 3, "seed %llu: cuts field disagrees with the bits",
              (unsigned long long)seed);
        for (uint32_t a = 0; a < 3; a++) {
            CHECK(drops_of(&g, a) == 1, "seed %llu: n%u drops %u nodes, want exactly 1",
                  (unsigned long long)seed, a, drops_of(&g, a));
            CHECK(dropped_by(&g, a) == 1, "seed %llu: n%u is dropped by %u nodes, want 1",
                  (unsigned long long)seed, a, dropped_by(&g, a));
            for (uint32_t b = 0; b < 3; b++)
                CHECK(!(grudge_drops(&g, a, b) && grudge_drops(&g, b, a)),
                      "seed %llu: n%u and n%u drop each other", (unsigned long long)seed, a, b);
        }
        /* Following "drops" from n0 visits every node and returns in three steps. */
        uint32_t at = 0, seen = 0;
        for (int step = 0; step < 3; step++) {
            seen |= 1u << at;
            uint32_t next = 0;
            while (next < 3 && !grudge_drops(&g, at, next))
                next++;
            CHECK(next < 3, "seed %llu: n%u drops nobody", (unsigned long long)seed, at);
            at = next;
        }
        CHECK(at == 0 && seen == 7, "seed %llu: not a 3-cycle", (unsigned long long)seed);
        grudge_fini(&g);
    }
}

Test(grudge, ring_of_four_and_five_is_symmetric_with_distinct_majorities)
{
    for (uint32_t n = 4; n <= 5; n++) {
        for (uint64_t seed = 0; seed < SEEDS; seed++) {
            struct grudge g;
            draw(&g, n, SHAPE_MAJORITIES_RING, seed);
            CHECK(symmetric(&g), "n=%u seed %llu: ring is not symmetric", n,
                  (unsigned long long)seed);
            uint64_t heard[8] = {0};
            for (uint32_t a = 0; a < n; a++) {
                /* Each node hears a majority (itself included) and nothing more. */
                CHECK(n - drops_of(&g, a) == n / 2 + 1, "n=%u seed %llu: n%u hears %u nodes", n,
                      (unsigned long long)seed, a, n - drops_of(&g, a));
                for (uint32_t b = 0; b < n; b++)
                    if (!grudge_drops(&g, a, b))
                        heard[a] |= 1u << b;
                for (uint32_t b = 0; b < a; b++)
                    CHECK(heard[a] != heard[b], "n=%u seed %llu: n%u and n%u share a majority", n,
                          (unsigned long long)seed, a, b);
            }
            grudge_fini(&g);
        }
    }
}

Test(grudge, ring_above_five_gives_every_node_a_majority)
{
    for (uint32_t n = 6; n <= 11; n++) {
        for (uint64_t seed = 0; seed < 50; seed++) {
            struct grudge g;
            draw(&g, n, SHAPE_MAJORITIES_RING, seed);
            for (uint32_t a = 0; a < n; a++) {
                CHECK(n - drops_of(&g, a) == n / 2 + 1, "n=%u seed %llu: n%u hears %u nodes", n,
                      (unsigned long long)seed, a, n - drops_of(&g, a));
                CHECK(!grudge_drops(&g, a, a), "n%u drops itself", a);
            }
            grudge_fini(&g);
        }
    }
}

Test(grudge, ring_of_two_or_fewer_is_empty)
{
    for (uint32_t n = 1; n <= 2; n++) {
        struct grudge g;
        draw(&g, n, SHAPE_MAJORITIES_RING, 1);
        cr_expect_eq(g.cuts, 0, "n=%u", n);
        cr_expect_eq(count_bits(&g), 0, "n=%u", n);
        grudge_fini(&g);
    }
}

Test(grudge, minority_third_of_three_or_fewer_is_empty)
{
    for (uint32_t n = 1; n <= 3; n++) {
        for (uint64_t seed = 0; seed < 20; seed++) {
            struct grudge g;
            draw(&g, n, SHAPE_MINORITY_THIRD, seed);
            CHECK(g.cuts == 0 && count_bits(&g) == 0, "n=%u seed %llu: %u cuts", n,
                  (unsigned long long)seed, g.cuts);
            grudge_fini(&g);
        }
    }
}

Test(grudge, minority_third_cuts_a_third_from_the_rest)
{
    for (uint32_t n = 4; n <= 10; n++) {
        uint32_t k = (n - 1) / 3;
        for (uint64_t seed = 0; seed < 50; seed++) {
            struct grudge g;
            draw(&g, n, SHAPE_MINORITY_THIRD, seed);
            CHECK(symmetric(&g), "n=%u: not symmetric", n);
            CHECK(g.cuts == 2 * k * (n - k), "n=%u seed %llu: %u cuts, want %u", n,
                  (unsigned long long)seed, g.cuts, 2 * k * (n - k));
            uint32_t minority = 0;
            for (uint32_t a = 0; a < n; a++) {
                uint32_t d = drops_of(&g, a);
                CHECK(d == n - k || d == k, "n=%u: n%u drops %u", n, a, d);
                minority += d == n - k && d != k;
            }
            CHECK(minority == k, "n=%u seed %llu: %u nodes in the minority, want %u", n,
                  (unsigned long long)seed, minority, k);
            grudge_fini(&g);
        }
    }
}

Test(grudge, majority_of_five_cuts_two_from_three)
{
    for (uint64_t seed = 0; seed < SEEDS; seed++) {
        struct grudge g;
        draw(&g, 5, SHAPE_MAJORITY, seed);
        CHECK(symmetric(&g), "seed %llu: not symmetric", (unsigned long long)seed);
        CHECK(g.cuts == 12, "seed %llu: %u cuts, want 2*3*2", (unsigned long long)seed, g.cuts);
        uint32_t small = 0, large = 0;
        for (uint32_t a = 0; a < 5; a++) {
            uint32_t d = drops_of(&g, a);
            small += d == 3; /* a node of the 2 drops the 3 */
            large += d == 2; /* a node of the 3 drops the 2 */
        }
        CHECK(small == 2 && large == 3, "seed %llu: sides %u|%u, want 2|3",
              (unsigned long long)seed, small, large);
        /* Nodes on the same side hear each other. */
        for (uint32_t a = 0; a < 5; a++)
            for (uint32_t b = 0; b < 5; b++)
                if (a != b && drops_of(&g, a) == drops_of(&g, b))
                    CHECK(!grudge_drops(&g, a, b), "seed %llu: n%u drops n%u of its own side",
                          (unsigned long long)seed, a, b);
        grudge_fini(&g);
    }
}

Test(grudge, majority_bisects_smaller_half_first)
{
    static const uint32_t sizes[][2] = {{2, 1}, {3, 1}, {4, 2}, {10, 5}, {11, 5}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint32_t n = sizes[i][0], half = sizes[i][1];
        struct grudge g;
        draw(&g, n, SHAPE_MAJORITY, i);
        cr_expect_eq(g.cuts, 2 * half * (n - half), "n=%u: %u cuts", n, g.cuts);
        cr_expect(symmetric(&g), "n=%u", n);
        grudge_fini(&g);
    }
}

Test(grudge, one_isolates_a_single_node)
{
    for (uint64_t seed = 0; seed < SEEDS; seed++) {
        struct grudge g;
        draw(&g, 5, SHAPE_ONE, seed);
        CHECK(symmetric(&g), "not symmetric");
        CHECK(g.cuts == 8, "seed %llu: %u cuts, want 8", (unsigned long long)seed, g.cuts);
        uint32_t isolated = 0;
        for (uint32_t a = 0; a < 5; a++) {
            uint32_t d = drops_of(&g, a);
            CHECK(d == 4 || d == 1, "n%u drops %u", a, d);
            isolated += d == 4;
        }
        CHECK(isolated == 1, "seed %llu: %u isolated nodes", (unsigned long long)seed, isolated);
        grudge_fini(&g);
    }
}

/* ==== eddy's shapes ==== */

Test(grudge, one_way_cuts_only_one_direction)
{
    for (uint32_t n = 2; n <= 9; n++) {
        for (uint64_t seed = 0; seed < 40; seed++) {
            struct grudge g;
            draw(&g, n, SHAPE_ONE_WAY, seed);
            uint32_t half = n / 2;
            CHECK(g.cuts == half * (n - half), "n=%u seed %llu: %u cuts, want %u", n,
                  (unsigned long long)seed, g.cuts, half * (n - half));
            for (uint32_t a = 0; a < n; a++)
                for (uint32_t b = 0; b < n; b++)
                    CHECK(!(grudge_drops(&g, a, b) && grudge_drops(&g, b, a)),
                          "n=%u: n%u and n%u drop each other", n, a, b);
            /* The deaf side (n - half nodes) drops everyone of the other side; that side drops
             * nobody. */
            uint32_t deaf = 0, hearing = 0;
            for (uint32_t a = 0; a < n; a++) {
                deaf += drops_of(&g, a) == half;
                hearing += drops_of(&g, a) == 0;
            }
            CHECK(deaf == n - half && hearing == half, "n=%u seed %llu: %u deaf, %u hearing", n,
                  (unsigned long long)seed, deaf, hearing);
            grudge_fini(&g);
        }
    }
}

Test(grudge, bridge_leaves_one_node_connected_to_all)
{
    for (uint32_t n = 3; n <= 9; n++) {
        for (uint64_t seed = 0; seed < 40; seed++) {
            struct grudge g;
            draw(&g, n, SHAPE_BRIDGE, seed);
            CHECK(symmetric(&g), "n=%u: not symmetric", n);
            uint32_t bridges = 0;
            for (uint32_t a = 0; a < n; a++)
                bridges += drops_of(&g, a) == 0 && dropped_by(&g, a) == 0;
            CHECK(bridges == 1, "n=%u seed %llu: %u nodes talk to everyone", n,
                  (unsigned long long)seed, bridges);
            uint32_t half = n / 2, other = n - half - 1;
            CHECK(g.cuts == 2 * half * other, "n=%u seed %llu: %u cuts, want %u", n,
                  (unsigned long long)seed, g.cuts, 2 * half * other);
            grudge_fini(&g);
        }
    }
    struct grudge g;
    draw(&g, 2, SHAPE_BRIDGE, 1);
    cr_expect_eq(g.cuts, 0, "two nodes cannot be bridged");
    grudge_fini(&g);
}

/* ==== Every shape ==== */

Test(grudge, node_never_drops_itself)
{
    for (int shape = 0; shape < SHAPE_COUNT; shape++) {
        for (uint32_t n = 1; n <= 9; n++) {
            for (uint64_t seed = 0; seed < 20; seed++) {
                struct grudge g;
                draw(&g, n, (enum partition_shape)shape, seed);
                for (uint32_t a = 0; a < n; a++)
                    CHECK(!grudge_drops(&g, a, a), "%s n=%u seed %llu: n%u drops itself",
                          partition_shape_name((enum partition_shape)shape), n,
                          (unsigned long long)seed, a);
                CHECK(g.cuts == count_bits(&g), "%s n=%u: cuts %u, bits %u",
                      partition_shape_name((enum partition_shape)shape), n, g.cuts, count_bits(&g));
                grudge_fini(&g);
            }
        }
    }
    struct grudge g;
    grudge_init(&g, 3);
    grudge_drop(&g, 1, 1);
    cr_expect_eq(g.cuts, 0, "grudge_drop ignores a node dropping itself");
    cr_expect(!grudge_drops(&g, 1, 1));
    grudge_fini(&g);
}

Test(grudge, same_seed_same_cut)
{
    for (int shape = 0; shape < SHAPE_COUNT; shape++) {
        for (uint64_t seed = 0; seed < 20; seed++) {
            struct grudge a, b;
            draw(&a, 7, (enum partition_shape)shape, seed);
            draw(&b, 7, (enum partition_shape)shape, seed);
            CHECK(memcmp(a.bits, b.bits, (49 + 63) / 64 * sizeof(uint64_t)) == 0,
                  "%s seed %llu: two draws differ",
                  partition_shape_name((enum partition_shape)shape), (unsigned long long)seed);
            grudge_fini(&a);
            grudge_fini(&b);
        }
    }
}

Test(grudge, different_seeds_pick_different_nodes)
{
    /* Over 50 seeds, the isolated node of `one` on five nodes is not always the same. */
    uint32_t isolated_seen = 0;
    for (uint64_t seed = 0; seed < 50; seed++) {
        struct grudge g;
        draw(&g, 5, SHAPE_ONE, seed);
        for (uint32_t a = 0; a < 5; a++)
            if (drops_of(&g, a) == 4)
                isolated_seen |= 1u << a;
        grudge_fini(&g);
    }
    cr_expect_eq(isolated_seen, 0x1F, "every node gets isolated by some seed (mask %#x)",
                 isolated_seen);
}

Test(grudge, make_replaces_the_previous_cut)
{
    struct prng r;
    prng_seed(&r, 5, 1);
    struct grudge g;
    grudge_init(&g, 5);
    grudge_make(&g, SHAPE_ONE, &r);
    cr_assert_eq(g.cuts, 8);
    grudge_make(&g, SHAPE_MINORITY_THIRD, &r); /* k = 1 for five nodes */
    cr_expect_eq(g.cuts, 8);
    grudge_make(&g, SHAPE_MAJORITY, &r);
    cr_expect_eq(g.cuts, 12);
    cr_expect_eq(count_bits(&g), 12);
    grudge_clear(&g);
    cr_expect_eq(g.cuts, 0);
    cr_expect_eq(count_bits(&g), 0);
    grudge_fini(&g);
    ASSERT_NO_LEAKS();
}

/* ==== Explicit cuts, names, descriptions ==== */

Test(grudge, cut_oneway_drops_from_to_only)
{
    struct grudge g;
    grudge_init(&g, 5);
    const uint32_t from[] = {0, 1}, to[] = {3, 4};
    grudge_cut_oneway(&g, from, 2, to, 2);
    cr_expect_eq(g.cuts, 4);
    cr_expect(grudge_drops(&g, 3, 0));
    cr_expect(grudge_drops(&g, 4, 1));
    cr_expect(!grudge_drops(&g, 0, 3), "the reverse direction still works");
    cr_expect(!grudge_drops(&g, 2, 0), "nodes outside both lists are untouched");
    grudge_cut_oneway(&g, from, 2, to, 2);
    cr_expect_eq(g.cuts, 4, "cutting again counts nothing twice");
    grudge_fini(&g);
}

Test(grudge, shape_names_round_trip)
{
    static const char names[][20] = {"one",     "minority-third", "majority", "majorities-ring",
                                     "one-way", "bridge"};
    cr_assert_eq(SHAPE_COUNT, 6);
    for (int s = 0; s < SHAPE_COUNT; s++) {
        cr_expect_str_eq(partition_shape_name((enum partition_shape)s), names[s]);
        enum partition_shape out = SHAPE_COUNT;
        cr_expect_eq(partition_shape_parse(names[s], &out), 0);
        cr_expect_eq(out, s);
    }
    enum partition_shape out;
    cr_expect_eq(partition_shape_parse("ring", &out), -EINVAL);
    cr_expect_eq(partition_shape_parse("", &out), -EINVAL);
    cr_expect_eq(partition_shape_parse("One", &out), -EINVAL);
    cr_expect_eq(SHAPES_MAELSTROM, (1u << SHAPE_ONE) | (1u << SHAPE_MINORITY_THIRD) |
                                       (1u << SHAPE_MAJORITY) | (1u << SHAPE_MAJORITIES_RING));
}

Test(grudge, describe_lists_receivers_and_their_senders)
{
    char *names[] = {(char *)"n0", (char *)"n1", (char *)"n2"};
    struct grudge g;
    grudge_init(&g, 3);
    char out[128];
    size_t n = grudge_describe(&g, names, out, sizeof(out));
    cr_expect_str_eq(out, "none");
    cr_expect_eq(n, 4);
    grudge_drop(&g, 1, 0);
    grudge_drop(&g, 1, 2);
    grudge_drop(&g, 2, 1);
    n = grudge_describe(&g, names, out, sizeof(out));
    cr_expect_str_eq(out, "n1 drops n0 n2; n2 drops n1");
    cr_expect_eq(n, strlen(out));
    grudge_fini(&g);
}

Test(grudge, describe_truncates_with_an_ellipsis)
{
    char *names[] = {(char *)"node-zero", (char *)"node-one", (char *)"node-two"};
    struct grudge g;
    grudge_init(&g, 3);
    for (uint32_t d = 0; d < 3; d++)
        for (uint32_t s = 0; s < 3; s++)
            grudge_drop(&g, d, s);
    char full[256];
    size_t whole = grudge_describe(&g, names, full, sizeof(full));
    cr_assert_eq(whole, strlen(full));
    for (size_t cap = 4; cap < whole; cap += 3) {
        char out[256];
        memset(out, '#', sizeof(out));
        size_t n = grudge_describe(&g, names, out, cap);
        CHECK(n < cap, "cap %zu: length %zu", cap, n);
        CHECK(strlen(out) == n, "cap %zu: returned %zu, strlen %zu", cap, n, strlen(out));
        CHECK(n >= 3 && strcmp(out + n - 3, "...") == 0, "cap %zu: '%s' lacks the ellipsis", cap,
              out);
        CHECK(out[cap] == '#', "cap %zu: wrote past the end", cap);
    }
    grudge_fini(&g);
}
