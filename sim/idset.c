/*
 * idset.c: the ID set of idset.h.
 *
 * Slot: the 64-bit fingerprint, and meta = entry + 1 in the low ENTRY_BITS and the entry's count
 * above (meta 0: empty). Entry: a record in the ids spill, varint encoding length, the encoding,
 * then the op (ref, index, process, zigzag time, node, client, incarnation as varints); its id
 * is its offset.
 * A shard's home for a fingerprint is its next bits scaled to the shard (a multiply and a shift),
 * so the table is in fingerprint order but for the displacement of linear probing: a shard
 * written out as a run needs only an insertion sort. Capacities start spread over 64 to 95
 * slots (one growth step), so that shards reach three-quarters full, and grow by half, at
 * different moments: the set's slots cost 16 / load bytes per ID, and with the loads spread evenly
 * over a growth cycle that is about 26 bytes whenever it is looked at, never the 32 of a table that
 * has just grown. A shard grows in one go: at most 1/256 of the set is rehashed at once. Depends
 * on: canon, spill, json, buf, alloc. Used by: check.
 */
#include "idset.h"
#include "canon.h"
#include "spill.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#define SHARDS 256
#define SHARD_CAP0 64
#define ENTRY_BITS 42
#define ENTRY_MASK ((UINT64_C(1) << ENTRY_BITS) - 1)
#define COUNT_MAX ((UINT64_C(1) << (64 - ENTRY_BITS)) - 1)
#define OP_BYTES_MAX 70           /* seven varints */
#define CURSOR_RECORDS 512        /* per run while merging: 8 KiB */
#define POPULATE_FROM (64u << 10) /* tables this large are mapped, populated */

struct slot {
    uint64_t fp;
    uint64_t meta;
};

struct run {
    uint64_t at; /* offset in the runs spill */
    uint64_t n;  /* slots */
};

struct shard {
    struct slot *t;
    size_t cap, count;
    struct run runs[IDSET_RUNS_MAX];
    unsigned nruns;
};

struct cursor {
    uint64_t at, left; /* next slot in the runs spill, slots left */
    struct slot buf[CURSOR_RECORDS];
    size_t pos, len;
};

struct big_count {
    uint64_t entry, extra; /* counts past COUNT_MAX */
};

struct idset {
    struct shard shards[SHARDS];
    size_t table_bytes, table_max; /* the slots, and what the budget leaves them */
    size_t merge_bytes;            /* cursors of a merge under way */
    size_t memory_max, bytes_max;
    struct spill *ids, *runs;
    uint64_t k0, k1; /* hash key, drawn per set */
    uint64_t fp_mask;
    size_t fp_prefix; /* bytes hashed at most (tests); SIZE_MAX normally */
    size_t count;
    uint64_t nruns;
    struct big_count *big;
    size_t big_len, big_cap;
    struct buf enc; /* the last value's encoding */
    struct canon_scratch canon;
    uint8_t *cmp; /* read-back buffers for comparisons, 2 x CMP_CHUNK */
    int error;
};

#define CMP_CHUNK (16u << 10)

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

/* A keyed hash of the encoding, eight bytes at a time through a 128-bit multiply. The key is
 * drawn per set, so a node cannot aim its IDs at one fingerprint; and a fingerprint match is
 * only ever a reason to compare. */
static uint64_t fingerprint(const struct idset *s, const uint8_t *p, size_t n)
{
    n = EDDY_MIN(n, s->fp_prefix);
    uint64_t h = mix(s->k0 ^ n, s->k1);
    while (n >= 8) {
        h = mix(h ^ rd64(p), s->k1);
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t tail = 0;
        memcpy(&tail, p, n);
        h = mix(h ^ tail, s->k0);
    }
    return mix(h, s->k1 ^ 0x8EBC6AF09C88C6E3ull) & s->fp_mask;
}

static inline struct shard *shard_of(struct idset *s, uint64_t fp)
{
    return &s->shards[fp >> 56];
}

/* The first slot for fp in a table of cap slots: the bits below the shard's, scaled. */
static inline size_t home(uint64_t fp, size_t cap)
{
    return (size_t)(((unsigned __int128)(fp << 8) * cap) >> 64);
}

static inline size_t next_slot(size_t i, size_t cap)
{
    return i + 1 == cap ? 0 : i + 1;
}

static inline uint64_t meta_entry(uint64_t meta)
{
    return (meta & ENTRY_MASK) - 1;
}

static inline uint64_t meta_count(uint64_t meta)
{
    return meta >> ENTRY_BITS;
}

/* ==== Memory ==== */

/* Tables are zeroed memory. Large ones come populated from mmap: probed lazily, a page was
 * first mapped to the shared zero page by a lookup and then copied on the insertion that
 * followed, a second fault whose TLB flush interrupted every other CPU running one of eddy's
 * threads (8% of all CPU at full speed, before this was done). */
static struct slot *table_alloc(size_t cap)
{
    size_t bytes = cap * sizeof(struct slot);
    if (bytes < POPULATE_FROM)
        return xcalloc(cap, sizeof(struct slot));
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                   -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "eddy: out of memory (%zu bytes for the ID set)\n", bytes);
        abort(); /* as xmalloc: exhaustion is not something to recover from (alloc.h) */
    }
    return p;
}

static void table_free(struct slot *t, size_t cap)
{
    if (!t)
        return;
    size_t bytes = cap * sizeof(struct slot);
    if (bytes < POPULATE_FROM)
        free(t);
    else
        munmap(t, bytes);
}

static void note_bytes(struct idset *s)
{
    size_t b = idset_bytes(s);
    if (b > s->bytes_max)
        s->bytes_max = b;
}

struct idset *idset_new(const struct idset_opts *o)
{
    struct idset *s = xcalloc(1, sizeof(*s));
    s->memory_max = o && o->memory_max ? o->memory_max : IDSET_MEMORY_DEFAULT;
    ASSERT(s->memory_max >= IDSET_MEMORY_MIN);
    unsigned bits = o && o->fingerprint_bits ? o->fingerprint_bits : 64;
    ASSERT(bits >= 8 && bits <= 64);
    s->fp_mask = bits == 64 ? UINT64_MAX : ~(UINT64_MAX >> bits);
    s->fp_prefix = o && o->fingerprint_prefix ? o->fingerprint_prefix : SIZE_MAX;
    if (getrandom(&s->k0, sizeof(s->k0), 0) != (ssize_t)sizeof(s->k0))
        s->k0 = (uint64_t)(uintptr_t)s;
    s->k0 ^= 0xA0761D6478BD642Full;
    s->k1 = 0xE7037ED1A0B428DBull | 1;
    /* The budget: the ids spill keeps a window of recent entries (a sixty-fourth of it, one
     * block to 16 MiB), the runs spill one block, merging a cursor per run, this struct and
     * the comparison buffers; the slots get the rest. */
    size_t window = EDDY_MIN(EDDY_MAX(s->memory_max / 64, (size_t)SPILL_BLOCK), (size_t)16 << 20);
    window -= window % SPILL_BLOCK;
    size_t merge = (IDSET_RUNS_MAX + 1) * sizeof(struct cursor);
    size_t fixed = sizeof(*s) + 2 * CMP_CHUNK + (64u << 10);
    s->table_max = s->memory_max - window - SPILL_BLOCK - merge - fixed;
    const char *dir = o ? o->dir : NULL;
    s->ids = spill_new(dir, window / SPILL_BLOCK);
    s->runs = spill_new(dir, 1);
    for (size_t i = 0; i < SHARDS; i++) {
        struct shard *sh = &s->shards[i];
        sh->cap = SHARD_CAP0 + i * SHARD_CAP0 / 2 / SHARDS; /* 64 to 95: see the top */
        sh->t = table_alloc(sh->cap);
        s->table_bytes += sh->cap * sizeof(struct slot);
    }
    ASSERT(s->table_bytes < s->table_max);
    buf_init(&s->enc, IDSET_VALUE_MAX + 16);
    canon_scratch_init(&s->canon);
    note_bytes(s);
    return s;
}

void idset_free(struct idset *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < SHARDS; i++)
        table_free(s->shards[i].t, s->shards[i].cap);
    spill_free(s->ids);
    spill_free(s->runs);
    free(s->big);
    buf_fini(&s->enc);
    canon_scratch_fini(&s->canon);
    free(s->cmp);
    free(s);
}

/* ==== Entries ==== */

static size_t put_zigzag(uint8_t *p, int64_t v)
{
    return canon_put_varint(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static int entry_write(struct idset *s, const uint8_t *enc, size_t n, const struct idset_op *op,
                       uint64_t *at)
{
    uint8_t head[10], tail[OP_BYTES_MAX];
    size_t hk = canon_put_varint(head, n), tk = 0;
    tk += canon_put_varint(tail + tk, op->ref);
    tk += canon_put_varint(tail + tk, op->index);
    tk += canon_put_varint(tail + tk, op->process);
    tk += put_zigzag(tail + tk, op->time_ns);
    tk += canon_put_varint(tail + tk, op->node);
    tk += canon_put_varint(tail + tk, op->client);
    tk += canon_put_varint(tail + tk, op->incarnation);
    if (n <= 192) {
        /* The common short ID: one append. */
        uint8_t rec[10 + 192 + OP_BYTES_MAX];
        memcpy(rec, head, hk);
        memcpy(rec + hk, enc, n);
        memcpy(rec + hk + n, tail, tk);
        return spill_append(s->ids, rec, hk + n + tk, at);
    }
    uint64_t x;
    int rc = spill_append(s->ids, head, hk, at);
    if (rc == 0)
        rc = spill_append(s->ids, enc, n, &x);
    if (rc == 0)
        rc = spill_append(s->ids, tail, tk, &x);
    return rc;
}

/* Reads an entry's encoding length; *skip gets the bytes of the length itself. */
static int entry_len(struct idset *s, uint64_t at, uint64_t *len, size_t *skip)
{
    uint8_t head[10];
    size_t avail = (size_t)EDDY_MIN((uint64_t)sizeof(head), spill_size(s->ids) - at);
    const uint8_t *p = spill_peek(s->ids, at, avail);
    if (!p) {
        int rc = spill_read(s->ids, at, head, avail);
        if (rc < 0)
            return rc;
        p = head;
    }
    *skip = canon_get_varint(p, avail, len);
    return *skip ? 0 : -EIO;
}

static uint8_t *cmp_buffers(struct idset *s)
{
    if (!s->cmp)
        s->cmp = xmalloc(2 * CMP_CHUNK);
    return s->cmp;
}

/* Compares n bytes at offset `at` in the ids spill with mem. 1 equal, 0 not, or a negative
 * errno. */
static int spill_equals(struct idset *s, uint64_t at, const uint8_t *mem, size_t n)
{
    const uint8_t *p = spill_peek(s->ids, at, n);
    if (p)
        return memcmp(p, mem, n) == 0;
    uint8_t *buf = cmp_buffers(s) + CMP_CHUNK; /* entries_equal's bytes may be in the first */
    /* Different IDs of one fingerprint usually differ early: read a little first. */
    size_t chunk = 512;
    for (size_t done = 0; done < n; chunk = EDDY_MIN(chunk * 8, (size_t)CMP_CHUNK)) {
        size_t take = EDDY_MIN(n - done, chunk);
        int rc = spill_read(s->ids, at + done, buf, take);
        if (rc < 0)
            return rc;
        if (memcmp(buf, mem + done, take) != 0)
            return 0;
        done += take;
    }
    return 1;
}

static int entry_equals(struct idset *s, uint64_t entry, const uint8_t *enc, size_t n)
{
    uint64_t len;
    size_t skip;
    int rc = entry_len(s, entry, &len, &skip);
    if (rc < 0)
        return rc;
    return len == n ? spill_equals(s, entry + skip, enc, n) : 0;
}

/* Compares two entries' encodings. 1 equal, 0 not, or a negative errno. */
static int entries_equal(struct idset *s, uint64_t a, uint64_t b)
{
    uint64_t la, lb;
    size_t ka, kb;
    int rc = entry_len(s, a, &la, &ka);
    if (rc == 0)
        rc = entry_len(s, b, &lb, &kb);
    if (rc < 0)
        return rc;
    if (la != lb)
        return 0;
    uint8_t *buf = cmp_buffers(s);
    size_t chunk = 512;
    for (uint64_t done = 0; done < la; chunk = EDDY_MIN(chunk * 8, (size_t)CMP_CHUNK)) {
        size_t take = (size_t)EDDY_MIN(la - done, (uint64_t)chunk);
        rc = spill_read(s->ids, a + ka + done, buf, take);
        if (rc < 0)
            return rc;
        rc = spill_equals(s, b + kb + done, buf, take);
        if (rc <= 0)
            return rc;
        done += take;
    }
    return 1;
}

static uint64_t get_varint(const uint8_t *p, size_t *at, size_t end)
{
    uint64_t v = 0;
    size_t k = canon_get_varint(p + *at, end - *at, &v);
    *at += k ? k : end - *at;
    return v;
}

int idset_entry(struct idset *s, uint64_t entry, struct buf *enc, struct idset_op *op)
{
    uint64_t len;
    size_t skip;
    int rc = entry_len(s, entry, &len, &skip);
    if (rc < 0)
        return rc;
    if (enc) {
        char *dst = buf_reserve(enc, (size_t)len);
        if (!dst)
            return -ENOBUFS;
        rc = spill_read(s->ids, entry + skip, dst, (size_t)len);
        if (rc < 0)
            return rc;
        buf_commit(enc, (size_t)len);
    }
    if (op) {
        uint8_t t[OP_BYTES_MAX];
        uint64_t at = entry + skip + len;
        size_t n = (size_t)EDDY_MIN((uint64_t)sizeof(t), spill_size(s->ids) - at);
        rc = spill_read(s->ids, at, t, n);
        if (rc < 0)
            return rc;
        size_t i = 0;
        op->ref = get_varint(t, &i, n);
        op->index = get_varint(t, &i, n);
        op->process = get_varint(t, &i, n);
        uint64_t z = get_varint(t, &i, n);
        op->time_ns = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
        op->node = (uint32_t)get_varint(t, &i, n);
        op->client = (uint32_t)get_varint(t, &i, n);
        op->incarnation = (uint32_t)get_varint(t, &i, n);
    }
    return 0;
}

/* ==== Counts ==== */

static struct big_count *big_find(struct idset *s, uint64_t entry)
{
    for (size_t i = 0; i < s->big_len; i++)
        if (s->big[i].entry == entry)
            return &s->big[i];
    return NULL;
}

/* One more op for the entry in slot sl. Counts past COUNT_MAX (four million ops for one ID) go
 * to a short list: it cannot hold more than ops / COUNT_MAX entries. */
static void count_up(struct idset *s, struct slot *sl)
{
    if (meta_count(sl->meta) < COUNT_MAX) {
        sl->meta += UINT64_C(1) << ENTRY_BITS;
        return;
    }
    struct big_count *b = big_find(s, meta_entry(sl->meta));
    if (!b) {
        if (s->big_len == s->big_cap) {
            s->big_cap = s->big_cap ? 2 * s->big_cap : 8;
            s->big = xrealloc(s->big, s->big_cap * sizeof(*s->big));
        }
        b = &s->big[s->big_len++];
        *b = (struct big_count){.entry = meta_entry(sl->meta)};
    }
    b->extra++;
}

static uint64_t slot_count(struct idset *s, uint64_t meta)
{
    uint64_t n = meta_count(meta);
    if (n == COUNT_MAX) {
        struct big_count *b = big_find(s, meta_entry(meta));
        n += b ? b->extra : 0;
    }
    return n;
}

/* ==== Sorting a shard ==== */

/* Heapsort by fingerprint, in place: the fallback when a shard is far from sorted (only with
 * the few-bit fingerprints of tests, whose homes pile up). */
static void sift(struct slot *a, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && a[c + 1].fp > a[c].fp)
            c++;
        if (a[i].fp >= a[c].fp)
            return;
        struct slot t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

static void heap_sort(struct slot *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(a, i, n);
    for (size_t end = n; end-- > 1;) {
        struct slot t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift(a, 0, end);
    }
}

/* Packs the shard's slots to its front in fingerprint order, in place (no memory beyond the
 * budget), and returns how many there are. Homes grow with the fingerprint, so the table is in
 * order but for the displacement of linear probing, which an insertion sort undoes in a few
 * moves per slot. The exception is the cluster at the front (up to the first empty slot), which
 * may hold slots that wrapped past the end: they belong at the back, and are moved there
 * first. */
#define WRAP_MAX 1024

static size_t shard_sort(struct shard *sh)
{
    struct slot *t = sh->t, wrapped[WRAP_MAX];
    size_t front = 0, w = 0, n = 0;
    while (front < sh->cap && t[front].meta)
        front++;
    ASSERT(front < sh->cap); /* never more than three-quarters full */
    bool sorted_later = front > WRAP_MAX;
    for (size_t i = 0; i < sh->cap; i++) {
        if (!t[i].meta)
            continue;
        if (!sorted_later && i < front && home(t[i].fp, sh->cap) > i)
            wrapped[w++] = t[i];
        else
            t[n++] = t[i];
    }
    memcpy(t + n, wrapped, w * sizeof(*t));
    n += w;
    memset(t + n, 0, (sh->cap - n) * sizeof(*t));
    if (sorted_later) {
        heap_sort(t, n);
        return n;
    }
    size_t moves = 0;
    for (size_t i = 1; i < n; i++) {
        struct slot x = t[i];
        size_t j = i;
        while (j > 0 && t[j - 1].fp > x.fp) {
            t[j] = t[j - 1];
            j--;
            if (++moves > 16 * n) {
                t[j] = x;
                heap_sort(t, n);
                return n;
            }
        }
        t[j] = x;
    }
    return n;
}

/* ==== Growing and spilling ==== */

static void place(struct slot *t, size_t cap, struct slot x)
{
    size_t j = home(x.fp, cap);
    while (t[j].meta)
        j = next_slot(j, cap);
    t[j] = x;
}

static void shard_grow(struct idset *s, struct shard *sh, size_t cap)
{
    struct slot *t = table_alloc(cap);
    for (size_t i = 0; i < sh->cap; i++)
        if (sh->t[i].meta)
            place(t, cap, sh->t[i]);
    s->table_bytes += (cap - sh->cap) * sizeof(struct slot);
    note_bytes(s);
    table_free(sh->t, sh->cap);
    sh->t = t;
    sh->cap = cap;
}

static int cursor_next(struct idset *s, struct cursor *c, struct slot *out)
{
    if (c->pos == c->len) {
        if (c->left == 0)
            return 0;
        size_t n = (size_t)EDDY_MIN(c->left, (uint64_t)CURSOR_RECORDS);
        int rc = spill_read(s->runs, c->at, c->buf, n * sizeof(struct slot));
        if (rc < 0)
            return rc;
        c->at += n * sizeof(struct slot);
        c->left -= n;
        c->pos = 0;
        c->len = n;
    }
    *out = c->buf[c->pos++];
    return 1;
}

/* A k-way merge by fingerprint: k <= IDSET_RUNS_MAX + 1, so the smallest head is found by a
 * scan rather than a heap. Source k (if mem) is the shard itself, sorted. */
struct merge {
    struct cursor *c;
    struct slot head[IDSET_RUNS_MAX + 1];
    bool live[IDSET_RUNS_MAX + 1];
    size_t k;
    const struct slot *mem;
    size_t mem_n, mem_pos;
};

static int merge_pull(struct idset *s, struct merge *m, size_t i)
{
    if (i == m->k) {
        m->live[i] = m->mem_pos < m->mem_n;
        if (m->live[i])
            m->head[i] = m->mem[m->mem_pos++];
        return 0;
    }
    int rc = cursor_next(s, &m->c[i], &m->head[i]);
    m->live[i] = rc > 0;
    return rc < 0 ? rc : 0;
}

static int merge_open(struct idset *s, struct merge *m, struct shard *sh, const struct slot *mem,
                      size_t mem_n)
{
    memset(m, 0, sizeof(*m));
    m->k = sh->nruns;
    m->c = xcalloc(m->k ? m->k : 1, sizeof(*m->c));
    s->merge_bytes = (m->k ? m->k : 1) * sizeof(*m->c);
    note_bytes(s);
    m->mem = mem;
    m->mem_n = mem_n;
    int rc = 0;
    for (size_t i = 0; i < m->k; i++) {
        m->c[i].at = sh->runs[i].at;
        m->c[i].left = sh->runs[i].n;
    }
    for (size_t i = 0; i <= m->k && rc == 0; i++)
        rc = merge_pull(s, m, i);
    return rc;
}

/* The next slot in fingerprint order: 1, 0 at the end, or a negative errno. */
static int merge_next(struct idset *s, struct merge *m, struct slot *out)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i <= m->k; i++)
        if (m->live[i] && (best == SIZE_MAX || m->head[i].fp < m->head[best].fp))
            best = i;
    if (best == SIZE_MAX)
        return 0;
    *out = m->head[best];
    int rc = merge_pull(s, m, best);
    return rc < 0 ? rc : 1;
}

static void merge_close(struct idset *s, struct merge *m)
{
    free(m->c);
    s->merge_bytes = 0;
}

/* A shard with IDSET_RUNS_MAX runs has them merged into one, so that the runs, their cursors
 * and the final merge stay bounded however long the run. */
static int runs_compact(struct idset *s, struct shard *sh)
{
    struct merge m;
    int rc = merge_open(s, &m, sh, NULL, 0);
    uint64_t at = spill_size(s->runs), n = 0, x;
    struct slot sl;
    while (rc == 0 && (rc = merge_next(s, &m, &sl)) > 0) {
        rc = spill_append(s->runs, &sl, sizeof(sl), &x);
        n++;
    }
    merge_close(s, &m);
    if (rc < 0)
        return rc;
    sh->runs[0] = (struct run){.at = at, .n = n};
    sh->nruns = 1;
    s->nruns++;
    return 0;
}

/* Writes the shard out as a run sorted by fingerprint and empties it. */
static int shard_spill(struct idset *s, struct shard *sh)
{
    if (sh->nruns == IDSET_RUNS_MAX) {
        int rc = runs_compact(s, sh);
        if (rc < 0)
            return rc;
    }
    size_t n = shard_sort(sh);
    uint64_t at;
    int rc = spill_append(s->runs, sh->t, n * sizeof(struct slot), &at);
    if (rc < 0)
        return rc;
    sh->runs[sh->nruns++] = (struct run){.at = at, .n = n};
    s->nruns++;
    memset(sh->t, 0, sh->cap * sizeof(struct slot));
    sh->count = 0;
    return 0;
}

/* A shard three-quarters full grows by half if the budget has room for the new table next to
 * the old, or else goes to disk. */
static int shard_full(struct idset *s, struct shard *sh)
{
    size_t cap = sh->cap + sh->cap / 2;
    if (s->table_bytes + cap * sizeof(struct slot) <= s->table_max) {
        shard_grow(s, sh, cap);
        return 0;
    }
    return shard_spill(s, sh);
}

/* ==== Adding ==== */

/* The value's canonical encoding into s->enc. A plain string (the common ID) is copied after
 * its tag; anything else goes through canon_encode_with. */
static int encode(struct idset *s, const struct json_val *v)
{
    buf_clear(&s->enc);
    if (v->type == JSON_STRING && !(v->flags & JSON_F_ESCAPED)) {
        char *dst = buf_reserve(&s->enc, v->len - 1);
        if (!dst)
            return -E2BIG;
        dst[0] = 's';
        memcpy(dst + 1, v->p + 1, v->len - 2);
        buf_commit(&s->enc, v->len - 1);
        return 0;
    }
    return canon_encode_with(v, &s->enc, &s->canon) < 0 ? -E2BIG : 0;
}

int idset_add(struct idset *s, const struct json_val *v, const struct idset_op *op, uint64_t *entry)
{
    if (s->error)
        return s->error;
    int rc = encode(s, v);
    if (rc < 0)
        return rc;
    const uint8_t *enc = (const uint8_t *)buf_peek(&s->enc);
    size_t n = buf_len(&s->enc);
    if (n > IDSET_VALUE_MAX)
        return -E2BIG;
    uint64_t fp = fingerprint(s, enc, n);
    struct shard *sh = shard_of(s, fp);
    size_t i = home(fp, sh->cap);
    __builtin_prefetch(&sh->t[i]);
    for (;; i = next_slot(i, sh->cap)) {
        struct slot *sl = &sh->t[i];
        if (!sl->meta)
            break;
        if (sl->fp != fp)
            continue;
        rc = entry_equals(s, meta_entry(sl->meta), enc, n);
        if (rc < 0) {
            s->error = rc;
            return rc;
        }
        if (rc) {
            count_up(s, sl);
            *entry = meta_entry(sl->meta);
            return 1;
        }
        /* The same fingerprint, another ID: keep looking, and keep both. */
    }
    uint64_t at;
    rc = entry_write(s, enc, n, op, &at);
    if (rc < 0) {
        s->error = rc;
        return rc;
    }
    ASSERT(at < ENTRY_MASK);
    sh->t[i] = (struct slot){.fp = fp, .meta = (at + 1) | (UINT64_C(1) << ENTRY_BITS)};
    sh->count++;
    s->count++;
    *entry = at;
    if (sh->count * 4 > sh->cap * 3) {
        rc = shard_full(s, sh);
        if (rc < 0) {
            s->error = rc;
            return 0; /* this ID is in; the next add reports the error */
        }
    }
    return 0;
}

const uint8_t *idset_last_encoding(const struct idset *s, size_t *len)
{
    *len = buf_len(&s->enc);
    return (const uint8_t *)buf_peek(&s->enc);
}

/* ==== The end: merging ==== */

struct group {
    struct slot *m;
    size_t n, cap;
    struct idset_entry_count *ec; /* one class's entries */
    bool *done;
};

static int slot_entry_cmp(const void *a, const void *b)
{
    uint64_t x = meta_entry(((const struct slot *)a)->meta);
    uint64_t y = meta_entry(((const struct slot *)b)->meta);
    return (x > y) - (x < y);
}

/* Slots with one fingerprint: one ID in several entries (it went to disk between two of its
 * ops), or, rarely, different IDs. Splits them into IDs by comparing the bytes, and reports each
 * ID returned more than once. */
static int group_resolve(struct idset *s, struct group *g, idset_dup_cb *cb, void *ctx)
{
    if (g->n == 1) {
        uint64_t count = slot_count(s, g->m[0].meta);
        if (count > 1) {
            struct idset_entry_count ec = {.entry = meta_entry(g->m[0].meta), .count = count};
            cb(ctx, &(struct idset_dup){.count = count, .nentries = 1, .entries = &ec});
        }
        return 0;
    }
    qsort(g->m, g->n, sizeof(*g->m), slot_entry_cmp);
    g->ec = xrealloc(g->ec, g->n * sizeof(*g->ec));
    g->done = xrealloc(g->done, g->n * sizeof(*g->done));
    memset(g->done, 0, g->n * sizeof(*g->done));
    for (size_t i = 0; i < g->n; i++) {
        if (g->done[i])
            continue;
        size_t k = 0;
        uint64_t total = 0;
        for (size_t j = i; j < g->n; j++) {
            if (g->done[j])
                continue;
            int rc =
                j == i ? 1 : entries_equal(s, meta_entry(g->m[i].meta), meta_entry(g->m[j].meta));
            if (rc < 0)
                return rc;
            if (!rc)
                continue;
            g->done[j] = true;
            uint64_t c = slot_count(s, g->m[j].meta);
            g->ec[k++] = (struct idset_entry_count){.entry = meta_entry(g->m[j].meta), .count = c};
            total += c;
        }
        if (total > 1)
            cb(ctx, &(struct idset_dup){.count = total, .nentries = k, .entries = g->ec});
    }
    return 0;
}

static void group_add(struct group *g, struct slot sl)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 16;
        g->m = xrealloc(g->m, g->cap * sizeof(*g->m));
    }
    g->m[g->n++] = sl;
}

static int shard_finish(struct idset *s, struct shard *sh, struct group *g, idset_dup_cb *cb,
                        void *ctx, const atomic_bool *stop, bool memory_only)
{
    size_t n = shard_sort(sh);
    struct merge m;
    if (memory_only)
        sh->nruns = 0;
    int rc = merge_open(s, &m, sh, sh->t, n);
    struct slot sl;
    uint64_t seen = 0;
    g->n = 0;
    while (rc == 0) {
        int more = merge_next(s, &m, &sl);
        if (more <= 0) {
            rc = more;
            break;
        }
        if (g->n && g->m[0].fp != sl.fp) {
            rc = group_resolve(s, g, cb, ctx);
            g->n = 0;
        }
        group_add(g, sl);
        if (++seen % 65536 == 0 && stop && atomic_load(stop))
            rc = -ECANCELED;
    }
    if (rc == 0 && g->n)
        rc = group_resolve(s, g, cb, ctx);
    merge_close(s, &m);
    /* The shard is sorted now, not a hash table: nothing may be added after this. */
    sh->count = 0;
    return rc;
}

int idset_finish(struct idset *s, idset_dup_cb *cb, void *ctx, const atomic_bool *stop,
                 bool memory_only)
{
    struct group g = {0};
    int rc = 0;
    for (size_t i = 0; i < SHARDS && rc == 0; i++) {
        if (stop && atomic_load(stop))
            rc = -ECANCELED;
        else
            rc = shard_finish(s, &s->shards[i], &g, cb, ctx, stop, memory_only);
    }
    free(g.m);
    free(g.ec);
    free(g.done);
    return rc;
}

/* ==== Figures ==== */

size_t idset_count(const struct idset *s)
{
    return s->count;
}

size_t idset_bytes(const struct idset *s)
{
    return s->table_bytes + s->merge_bytes + spill_memory(s->ids) + spill_memory(s->runs) +
           s->big_cap * sizeof(*s->big) + (s->cmp ? 2 * CMP_CHUNK : 0) + sizeof(*s);
}

size_t idset_bytes_max(const struct idset *s)
{
    return EDDY_MAX(s->bytes_max, idset_bytes(s));
}

size_t idset_table_bytes(const struct idset *s)
{
    return s->table_bytes;
}

size_t idset_scratch_bytes(const struct idset *s)
{
    return canon_scratch_bytes(&s->canon) + s->enc.cap;
}

uint64_t idset_disk_bytes(const struct idset *s)
{
    return spill_disk_bytes(s->ids) + spill_disk_bytes(s->runs);
}

uint64_t idset_runs(const struct idset *s)
{
    return s->nruns;
}

int idset_error(const struct idset *s)
{
    return s->error;
}
