/*
 * idset.c: the exact ID set of idset.h.
 *
 * Entry layout in the arena: varint length, canonical encoding, 5-byte little-endian ref. An
 * entry never straddles two chunks, so an offset is (chunk << 26 | position) and a lookup is one
 * shift and one add. The common ID, a plain string without escapes, is hashed and compared
 * straight from the node's line: its encoding is 's' followed by the raw bytes, so it is only
 * copied when it turns out to be new.
 * Depends on: canon, json, buf, alloc. Used by: check.
 */
#include "idset.h"
#include "canon.h"
#include "eddy/alloc.h"
#include "eddy/buf.h"
#include "eddy/util.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BITS 26
#define CHUNK_SIZE (1u << CHUNK_BITS) /* 64 MiB */
#define OFFSET_BITS 40
#define OFFSET_MASK ((UINT64_C(1) << OFFSET_BITS) - 1)
#define REF_BYTES 5

struct idset {
    uint8_t **chunks;
    size_t *chunk_used; /* bytes used in each chunk (the last one's is `used`) */
    size_t nchunks;
    size_t used;     /* bytes used in the last chunk */
    uint64_t *table; /* 0 = empty, else (hash tag << 40) | (offset + 1) */
    size_t cap;      /* slots, any number (see home()) */
    uint64_t *old;   /* the table being emptied into `table` while growing, or NULL */
    size_t old_cap;
    size_t mig_chunk, mig_at;         /* the next arena entry to move */
    size_t mig_end_chunk, mig_end_at; /* where the arena ended when the growth began */
    size_t count;
    struct buf scratch; /* encodings that are not plain strings */
    struct canon_scratch canon;
    const uint8_t *last;
    size_t last_len;
};

/* ==== Hashing ==== */

static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t mix(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Hash of tag byte + bytes. Eight bytes at a time through a 128-bit multiply; quality is ample
 * for a table whose equality test is an exact memcmp. */
static uint64_t hash_bytes(uint8_t tag, const uint8_t *p, size_t n)
{
    const uint64_t k0 = 0xA0761D6478BD642Full, k1 = 0xE7037ED1A0B428DBull;
    uint64_t h = mix(tag ^ k0, (uint64_t)n ^ k1);
    while (n >= 8) {
        h = mix(h ^ rd64(p), k1);
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t tail = 0;
        memcpy(&tail, p, n);
        h = mix(h ^ tail, k0);
    }
    return mix(h, k1 ^ 0x8EBC6AF09C88C6E3ull);
}

/* ==== Memory ==== */

/* Large, zeroed memory straight from mmap, returned to the system whole. Transparent huge pages
 * were tried for the randomly probed table and dropped: the kernel zeroes each 2 MiB page on
 * first touch, which turned every growth into a stall of up to half a second, for no measurable
 * gain in throughput.
 * The table is populated up front: probed lazily, a page was first mapped to the shared zero
 * page by a lookup and then copied on the insertion that followed, a second fault whose TLB
 * flush interrupted every other CPU running one of eddy's threads. The arena is written before
 * it is read, so it is left to fault in as it fills. */
static void *big_alloc(size_t bytes, bool populate)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
    if (p == MAP_FAILED) {
        /* As xmalloc: exhaustion is not something to recover from (alloc.h). */
        fprintf(stderr, "eddy: out of memory (%zu bytes for the ID set)\n", bytes);
        abort();
    }
    return p;
}

static void big_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
}

/* ==== Arena ==== */

static uint8_t *entry_at(const struct idset *s, uint64_t offset)
{
    return s->chunks[offset >> CHUNK_BITS] + (offset & (CHUNK_SIZE - 1));
}

static uint64_t arena_put(struct idset *s, uint8_t tag, const uint8_t *body, size_t n, uint64_t ref)
{
    uint8_t len[10];
    size_t lk = canon_put_varint(len, n + 1);
    size_t need = lk + 1 + n + REF_BYTES;
    ASSERT(need <= CHUNK_SIZE);
    if (s->nchunks == 0 || s->used + need > CHUNK_SIZE) {
        s->chunks = xrealloc(s->chunks, (s->nchunks + 1) * sizeof(*s->chunks));
        s->chunk_used = xrealloc(s->chunk_used, (s->nchunks + 1) * sizeof(*s->chunk_used));
        if (s->nchunks)
            s->chunk_used[s->nchunks - 1] = s->used;
        s->chunks[s->nchunks++] = big_alloc(CHUNK_SIZE, false);
        s->used = 0;
    }
    uint64_t offset = ((uint64_t)(s->nchunks - 1) << CHUNK_BITS) | s->used;
    ASSERT(offset < OFFSET_MASK);
    uint8_t *p = s->chunks[s->nchunks - 1] + s->used;
    memcpy(p, len, lk);
    p[lk] = tag;
    if (n)
        memcpy(p + lk + 1, body, n);
    for (int i = 0; i < REF_BYTES; i++)
        p[lk + 1 + n + (size_t)i] = (uint8_t)(ref >> (8 * i));
    s->used += need;
    return offset;
}

static bool entry_equals(const struct idset *s, uint64_t offset, uint8_t tag, const uint8_t *body,
                         size_t n)
{
    const uint8_t *p = entry_at(s, offset);
    uint64_t len;
    size_t lk = canon_get_varint(p, 10, &len);
    return len == n + 1 && p[lk] == tag && (n == 0 || memcmp(p + lk + 1, body, n) == 0);
}

static uint64_t entry_ref(const struct idset *s, uint64_t offset)
{
    const uint8_t *p = entry_at(s, offset);
    uint64_t len, ref = 0;
    size_t lk = canon_get_varint(p, 10, &len);
    for (int i = 0; i < REF_BYTES; i++)
        ref |= (uint64_t)p[lk + len + (size_t)i] << (8 * i);
    return ref;
}

/* ==== Table ==== */

/* A value's first slot: the high bits of its hash scaled to the table (a multiply and a shift,
 * so the table can have any size and grow by half instead of doubling). The tag kept in the
 * slot comes from the low bits, which the position does not already tell apart. */
static inline size_t home(uint64_t h, size_t cap)
{
    return (size_t)(((unsigned __int128)h * cap) >> 64);
}

static inline uint64_t tag_of(uint64_t h)
{
    return h & ((UINT64_C(1) << (64 - OFFSET_BITS)) - 1);
}

static inline size_t next_slot(size_t i, size_t cap)
{
    return i + 1 == cap ? 0 : i + 1;
}

struct idset *idset_new(void)
{
    struct idset *s = xcalloc(1, sizeof(*s));
    s->cap = 1024;
    s->table = big_alloc(s->cap * sizeof(uint64_t), true);
    buf_init(&s->scratch, IDSET_VALUE_MAX + 16);
    canon_scratch_init(&s->canon);
    return s;
}

void idset_free(struct idset *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nchunks; i++)
        big_free(s->chunks[i], CHUNK_SIZE);
    free(s->chunks);
    free(s->chunk_used);
    big_free(s->table, s->cap * sizeof(uint64_t));
    big_free(s->old, s->old_cap * sizeof(uint64_t));
    buf_fini(&s->scratch);
    canon_scratch_fini(&s->canon);
    free(s);
}

/* ==== Growing without a pause ==== */

/* Inserts an arena entry's slot into table t (cap slots) at its first free place. */
static void place(uint64_t *t, size_t cap, uint64_t h, uint64_t off)
{
    size_t j = home(h, cap);
    while (t[j])
        j = next_slot(j, cap);
    t[j] = (tag_of(h) << OFFSET_BITS) | (off + 1);
}

/* Growing the table in one go stopped the whole simulator for a second at six million IDs.
 * Instead, as Redis does, the old table stays in place while every later insertion also
 * moves MIGRATE_STEP entries into the new one. The new table is half as large again as the
 * old, not twice: while both are held the set costs arena + 8 / 0.75 + 8 / 0.5 bytes per ID
 * (about 64 for eddy-node's 30-character IDs) where doubling cost 69. Entries are moved in arena
 * order (a sequential read, unlike the old table's order) up to where the arena ended when the
 * growth began; what is added after that goes straight into the new table, so nothing is placed
 * twice. Lookups try the new table, then the old. */
#define MIGRATE_STEP 16

static void grow_start(struct idset *s)
{
    ASSERT(!s->old);
    s->old = s->table;
    s->old_cap = s->cap;
    s->cap += s->cap / 2;
    s->table = big_alloc(s->cap * sizeof(uint64_t), true);
    s->mig_chunk = 0;
    s->mig_at = 0;
    s->mig_end_chunk = s->nchunks ? s->nchunks - 1 : 0;
    s->mig_end_at = s->used;
}

/* Moves up to `steps` entries, MIGRATE_STEP at a time: all of a batch's hashes first, with a
 * prefetch of each one's slot in the new table, then the placing, so that the batch's cache
 * misses overlap instead of following one another. */
static void migrate(struct idset *s, size_t steps)
{
    uint64_t hs[MIGRATE_STEP], offs[MIGRATE_STEP];
    while (s->old && steps) {
        size_t n = 0;
        while (n < MIGRATE_STEP && steps) {
            if (s->mig_chunk > s->mig_end_chunk ||
                (s->mig_chunk == s->mig_end_chunk && s->mig_at >= s->mig_end_at) || s->nchunks == 0)
                break;
            size_t used = s->mig_chunk + 1 == s->nchunks ? s->used : s->chunk_used[s->mig_chunk];
            if (s->mig_at >= used) {
                s->mig_chunk++;
                s->mig_at = 0;
                continue;
            }
            const uint8_t *p = s->chunks[s->mig_chunk] + s->mig_at;
            uint64_t len;
            size_t lk = canon_get_varint(p, 10, &len);
            ASSERT(lk > 0);
            hs[n] = hash_bytes(p[lk], p + lk + 1, len - 1);
            offs[n] = ((uint64_t)s->mig_chunk << CHUNK_BITS) | s->mig_at;
            __builtin_prefetch(&s->table[home(hs[n], s->cap)], 1);
            n++;
            steps--;
            s->mig_at += lk + len + REF_BYTES;
        }
        for (size_t k = 0; k < n; k++)
            place(s->table, s->cap, hs[k], offs[k]);
        if (n < MIGRATE_STEP && steps) { /* the arena's end as of the growth: done */
            big_free(s->old, s->old_cap * sizeof(uint64_t));
            s->old = NULL;
        }
    }
}

/* Looks the value up in table t; returns the slot index where it is (*found) or where it
 * would go. */
static size_t probe(const struct idset *s, const uint64_t *t, size_t cap, uint64_t h, uint8_t tag,
                    const uint8_t *body, size_t n, bool *found)
{
    uint64_t htag = tag_of(h);
    size_t i = home(h, cap);
    for (;;) {
        uint64_t slot = t[i];
        if (!slot) {
            *found = false;
            return i;
        }
        uint64_t off = (slot & OFFSET_MASK) - 1;
        if ((slot >> OFFSET_BITS) == htag && entry_equals(s, off, tag, body, n)) {
            *found = true;
            return i;
        }
        i = next_slot(i, cap);
    }
}

static void set_last(struct idset *s, uint64_t off)
{
    uint64_t len;
    const uint8_t *p = entry_at(s, off);
    size_t lk = canon_get_varint(p, 10, &len);
    s->last = p + lk;
    s->last_len = len;
}

int idset_add(struct idset *s, const struct json_val *v, uint64_t ref, uint64_t *first_ref,
              uint64_t *entry)
{
    ASSERT(ref <= IDSET_REF_MAX);
    uint8_t tag;
    const uint8_t *body;
    size_t n;
    if (v->type == JSON_STRING && !(v->flags & JSON_F_ESCAPED)) {
        tag = 's';
        body = (const uint8_t *)v->p + 1;
        n = v->len - 2;
    } else {
        buf_clear(&s->scratch);
        if (canon_encode_with(v, &s->scratch, &s->canon) < 0)
            return -E2BIG;
        tag = (uint8_t)buf_peek(&s->scratch)[0];
        body = (const uint8_t *)buf_peek(&s->scratch) + 1;
        n = buf_len(&s->scratch) - 1;
    }
    if (n + 1 > IDSET_VALUE_MAX)
        return -E2BIG;
    /* The value's slot is fetched from memory while the migration step runs. */
    uint64_t h = hash_bytes(tag, body, n);
    __builtin_prefetch(&s->table[home(h, s->cap)]);
    migrate(s, MIGRATE_STEP);
    bool found;
    size_t i = probe(s, s->table, s->cap, h, tag, body, n, &found);
    const uint64_t *where = s->table;
    if (!found && s->old) {
        size_t k = probe(s, s->old, s->old_cap, h, tag, body, n, &found);
        if (found) {
            where = s->old;
            i = k;
        }
    }
    if (found) {
        uint64_t off = (where[i] & OFFSET_MASK) - 1;
        *first_ref = entry_ref(s, off);
        *entry = off;
        set_last(s, off);
        return 1;
    }
    uint64_t off = arena_put(s, tag, body, n, ref);
    s->table[i] = (tag_of(h) << OFFSET_BITS) | (off + 1);
    s->count++;
    *entry = off;
    set_last(s, off);
    if (s->count * 4 > s->cap * 3) {
        migrate(s, SIZE_MAX); /* never the case in practice: migration ends long before */
        grow_start(s);
    }
    return 0;
}

const uint8_t *idset_last_encoding(const struct idset *s, size_t *len)
{
    *len = s->last_len;
    return s->last;
}

size_t idset_count(const struct idset *s)
{
    return s->count;
}

size_t idset_bytes(const struct idset *s)
{
    /* Chunks are touched front to back, so the untouched tail of the last one is not resident
     * (malloc hands chunks this large out as fresh mmaps). */
    size_t arena = s->nchunks ? (s->nchunks - 1) * (size_t)CHUNK_SIZE + s->used : 0;
    return arena + (s->cap + (s->old ? s->old_cap : 0)) * sizeof(uint64_t);
}
