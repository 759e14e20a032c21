/*
 * ids.c: the ID strategies of ids.h.
 *
 * Only the default strategy is meant to be correct; the others reproduce common first answers
 * to Gossip Glomers challenge 2 faithfully, flaws included, so that the simulator has something
 * to catch. Randomness is read from getrandom(2) in 512-byte batches: one syscall per few dozen
 * IDs even for uuid4, and never a userspace generator whose state a fork could duplicate.
 * Depends on: nothing but libc. Used by: node.
 */
#include "eddy/ids.h"
#include "eddy/json.h"
#include "eddy/util.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define EDDY_SEQ_BITS 20
#define EDDY_SEQ_LIMIT (1u << EDDY_SEQ_BITS)
#define EDDY_MS_MAX ((INT64_C(1) << 48) - 1)
#define SNOWFLAKE_EPOCH_MS INT64_C(1288834974657)
#define SNOWFLAKE_SPIN_MAX 1000000

static const char crockford[32] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* ==== Names ==== */

static const char *const kind_names[] = {
#define XX(e, name, doc) name,
    EDDY_IDS_MAP(XX)
#undef XX
};

static const char *const kind_docs[] = {
#define XX(e, name, doc) doc,
    EDDY_IDS_MAP(XX)
#undef XX
};

int ids_kind_parse(const char *name, enum ids_kind *out)
{
    for (int k = 0; k < IDS_KIND_COUNT; k++) {
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (enum ids_kind)k;
            return 0;
        }
    }
    return -EINVAL;
}

const char *ids_kind_name(enum ids_kind kind)
{
    ASSERT(kind < IDS_KIND_COUNT);
    return kind_names[kind];
}

const char *ids_kind_doc(enum ids_kind kind)
{
    ASSERT(kind < IDS_KIND_COUNT);
    return kind_docs[kind];
}

/* ==== Randomness and fork safety ==== */

static unsigned fork_gen;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void ids_atfork_child(void)
{
    fork_gen++;
}

static void ids_register_atfork(void)
{
    pthread_atfork(NULL, NULL, ids_atfork_child);
}

unsigned ids_fork_generation(void)
{
    return fork_gen;
}

static void rnd_refill(struct ids *g)
{
    size_t got = 0;
    while (got < sizeof(g->rnd)) {
        ssize_t n = getrandom(g->rnd + got, sizeof(g->rnd) - got, 0);
        if (n < 0) {
            /* EINTR is the only error possible here once the pool is initialised; anything
             * else means the kernel cannot give randomness, and IDs without it are unsafe. */
            ASSERT(errno == EINTR);
            continue;
        }
        got += (size_t)n;
    }
    g->rnd_at = 0;
}

static void rnd_bytes(struct ids *g, void *out, size_t n)
{
    ASSERT(n <= sizeof(g->rnd));
    if (g->rnd_at + n > sizeof(g->rnd))
        rnd_refill(g);
    memcpy(out, g->rnd + g->rnd_at, n);
    g->rnd_at += n;
}

static uint64_t rnd_u64(struct ids *g)
{
    uint64_t v;
    rnd_bytes(g, &v, sizeof(v));
    return v;
}

static void base32(char *out, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = crockford[v & 31];
        v >>= 5;
    }
}

static void draw_incarnation(struct ids *g)
{
    g->fork_gen = fork_gen;
    g->rnd_at = sizeof(g->rnd); /* never reuse bytes drawn before a fork */
    g->incarnation = rnd_u64(g);
    base32(g->inc_text, g->incarnation, 13);
}

/* ==== Set-up ==== */

static int64_t ids_realtime_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void ids_init(struct ids *g, const struct ids_opts *o)
{
    ASSERT(o->kind < IDS_KIND_COUNT);
    ASSERT(o->node_len <= IDS_NODE_MAX);
    pthread_once(&atfork_once, ids_register_atfork);
    memset(g, 0, sizeof(*g));
    g->kind = o->kind;
    memcpy(g->node, o->node, o->node_len);
    g->node_len = o->node_len;
    g->node_index = o->node_index;
    g->clock = o->clock ? o->clock : ids_realtime_ns;
    g->clock_ctx = o->clock_ctx;
    g->last_ms = -1;
    draw_incarnation(g);
}

static int64_t now_ms(struct ids *g)
{
    int64_t ns = g->clock(g->clock_ctx);
    /* Floor division, so that a clock before 1970 gives negative ms rather than rounding up. */
    int64_t ms = ns / 1000000 - (ns % 1000000 < 0);
    return ms;
}

/* ==== Strategies ==== */

static size_t put_node(char *out, const struct ids *g)
{
    memcpy(out, g->node, g->node_len);
    return g->node_len;
}

static size_t next_eddy(struct ids *g, char *out)
{
    int64_t now = now_ms(g);
    if (now < 0)
        now = 0;
    if (now > EDDY_MS_MAX)
        now = EDDY_MS_MAX;
    if (now > g->last_ms) {
        g->last_ms = now;
        g->seq = 0;
        base32(g->ms_text, (uint64_t)now, 10);
    } else if (++g->seq == EDDY_SEQ_LIMIT) {
        g->seq = 0;
        if (g->last_ms < EDDY_MS_MAX) {
            /* Borrow the next millisecond rather than wait for the wall clock. */
            g->last_ms++;
            g->borrowed_ms++;
            base32(g->ms_text, (uint64_t)g->last_ms, 10);
        } else {
            /* T is exhausted (a clock 8,900 years ahead): only a new incarnation can stay
             * unique without waiting. */
            draw_incarnation(g);
            g->rerolled++;
        }
    }
    size_t n = 0;
    out[n++] = '"';
    memcpy(out + n, g->ms_text, 10);
    n += 10;
    memcpy(out + n, g->inc_text, 13);
    n += 13;
    base32(out + n, g->seq, 4);
    n += 4;
    out[n++] = '-';
    n += put_node(out + n, g);
    out[n++] = '"';
    return n;
}

static size_t next_snowflake(struct ids *g, char *out)
{
    int64_t now = now_ms(g) - SNOWFLAKE_EPOCH_MS;
    if (now < 0)
        now = 0;
    if (now == g->last_ms) {
        g->seq = (g->seq + 1) & 4095;
        if (g->seq == 0) {
            /* Twitter's tilNextMillis, bounded so that a frozen clock cannot hang the node:
             * after the bound it carries on in the same ms, which is the flaw on show. */
            for (int spins = 0; spins < SNOWFLAKE_SPIN_MAX && now <= g->last_ms; spins++)
                now = now_ms(g) - SNOWFLAKE_EPOCH_MS;
        }
    } else {
        /* A clock that went backwards lands here too: no guard, the sequence restarts. */
        g->seq = 0;
    }
    g->last_ms = now;
    uint64_t id = ((uint64_t)now << 22) | ((uint64_t)(g->node_index & 1023) << 12) | g->seq;
    size_t n = 0;
    out[n++] = '"';
    n += json_fmt_u64(out + n, id);
    out[n++] = '"';
    return n;
}

static size_t hex(char *out, const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    return 2 * n;
}

static size_t put_uuid(char *out, uint8_t b[16])
{
    size_t n = 0;
    out[n++] = '"';
    n += hex(out + n, b, 4);
    out[n++] = '-';
    n += hex(out + n, b + 4, 2);
    out[n++] = '-';
    n += hex(out + n, b + 6, 2);
    out[n++] = '-';
    n += hex(out + n, b + 8, 2);
    out[n++] = '-';
    n += hex(out + n, b + 10, 6);
    out[n++] = '"';
    return n;
}

static size_t next_uuid(struct ids *g, char *out, bool v7)
{
    uint8_t b[16];
    rnd_bytes(g, b, sizeof(b));
    if (v7) {
        int64_t ms = now_ms(g);
        uint64_t t = (uint64_t)(ms < 0 ? 0 : ms);
        for (int i = 0; i < 6; i++)
            b[i] = (uint8_t)(t >> (40 - 8 * i));
    }
    b[6] = (uint8_t)((b[6] & 0x0F) | (v7 ? 0x70 : 0x40));
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);
    return put_uuid(out, b);
}

size_t ids_next(struct ids *g, char *out)
{
    if (EDDY_UNLIKELY(g->fork_gen != fork_gen))
        draw_incarnation(g);
    size_t n = 0;
    switch (g->kind) {
    case IDS_EDDY:
        return next_eddy(g, out);
    case IDS_COUNTER:
        return json_fmt_u64(out, ++g->counter);
    case IDS_TIMESTAMP:
        return json_fmt_i64(out, now_ms(g));
    case IDS_NODE_COUNTER:
        out[n++] = '"';
        n += put_node(out + n, g);
        out[n++] = '-';
        n += json_fmt_u64(out + n, ++g->counter);
        out[n++] = '"';
        return n;
    case IDS_NODE_COUNTER_TIME: {
        int64_t ms = now_ms(g);
        out[n++] = '"';
        n += put_node(out + n, g);
        out[n++] = '-';
        n += json_fmt_i64(out + n, ms / 1000 - (ms % 1000 < 0));
        out[n++] = '-';
        n += json_fmt_u64(out + n, ++g->counter);
        out[n++] = '"';
        return n;
    }
    case IDS_SNOWFLAKE:
        return next_snowflake(g, out);
    case IDS_RANDOM32: {
        uint32_t v;
        rnd_bytes(g, &v, sizeof(v));
        return json_fmt_u64(out, v);
    }
    case IDS_UUID4:
        return next_uuid(g, out, false);
    case IDS_UUID7:
        return next_uuid(g, out, true);
    case IDS_KIND_COUNT:
        break;
    }
    ASSERT(!"unknown ID strategy");
    return 0;
}
