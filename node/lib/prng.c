/*
 * prng.c: xoshiro256** with splitmix64 seeding (public-domain algorithms by Blackman and Vigna,
 * written here from their published description).
 * Depends on: util. Used by: sim.
 */
#include "eddy/prng.h"
#include "eddy/util.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void prng_seed(struct prng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    /* Mix twice so that neighbouring (seed, stream) pairs share no state words. */
    splitmix64(&x);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t prng_next(struct prng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t prng_below(struct prng *r, uint64_t n)
{
    ASSERT(n > 0);
    /* Lemire's multiply-and-reject: unbiased, one multiplication in the common case. */
    unsigned __int128 m = (unsigned __int128)prng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (unsigned __int128)prng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double prng_unit(struct prng *r)
{
    return (double)(prng_next(r) >> 11) * 0x1.0p-53;
}

double prng_exp(struct prng *r, double mean)
{
    if (mean <= 0)
        return 0;
    /* 1 - u is in (0, 1], so the logarithm is finite. */
    return -mean * log(1.0 - prng_unit(r));
}

void prng_shuffle_u32(struct prng *r, uint32_t *v, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)prng_below(r, i);
        uint32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}
