/*
 * prng.h: a small seeded generator with independent sub-streams.
 *
 * Every random choice in the simulator (op stagger, echo payloads, fault schedule, latency per
 * link) draws from its own stream derived from (seed, stream id), so adding a draw in one
 * component never shifts the draws of another, and the same --seed replays the same schedule.
 * The generator is xoshiro256** seeded through splitmix64. Not for IDs: eddy-node takes its
 * randomness from getrandom(2).
 * Depends on: nothing. Used by: sim (net, nemesis, client, workload).
 */
#ifndef EDDY_PRNG_H
#define EDDY_PRNG_H

#include <stdint.h>

struct prng {
    uint64_t s[4];
};

/* Seeds `r` for stream `stream` of `seed`. Distinct streams are independent. */
void prng_seed(struct prng *r, uint64_t seed, uint64_t stream);

uint64_t prng_next(struct prng *r);

/* Uniform in [0, n), n > 0, without modulo bias. */
uint64_t prng_below(struct prng *r, uint64_t n);

/* Uniform in [0, 1). */
double prng_unit(struct prng *r);

/* Exponentially distributed with the given mean (>= 0). */
double prng_exp(struct prng *r, double mean);

/* Fisher-Yates shuffle of n uint32 values. */
void prng_shuffle_u32(struct prng *r, uint32_t *v, uint32_t n);

#endif /* EDDY_PRNG_H */
