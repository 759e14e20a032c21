/*
 * canon.c: canonical encodings and Clojure's order (see canon.h).
 *
 * Scalars encode straight into the output, without allocation. Arrays and objects, which no sane
 * ID scheme uses but which Maelstrom accepts (and a hostile node may nest 1,000 deep), go through
 * a token index in three linear passes (see "Arrays and objects"); the hot path of plain string
 * IDs never reaches that code.
 * Depends on: json, buf, alloc. Used by: idset, check.
 */
#include "canon.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

size_t canon_put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t canon_get_varint(const uint8_t *p, size_t len, uint64_t *v)
{
    if (EDDY_LIKELY(len > 0 && p[0] < 0x80)) {
        *v = p[0];
        return 1;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < len && i < 10; i++) {
        x |= (uint64_t)(p[i] & 0x7F) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

/* ==== Scalars ==== */

static bool is_int_text(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '.' || p[i] == 'e' || p[i] == 'E')
            return false;
    return true;
}

/* An integer's canonical text: its literal, except that -0 is 0 (Clojure's = says so). */
static void int_text(const char **p, size_t *n)
{
    if (*n == 2 && (*p)[0] == '-' && (*p)[1] == '0') {
        (*p)++;
        (*n)--;
    }
}

static double parse_double(const char *p, size_t n)
{
    char small[64];
    char *text = n < sizeof(small) ? small : xmalloc(n + 1);
    memcpy(text, p, n);
    text[n] = '\0';
    double d = strtod(text, NULL); /* eddy never calls setlocale: '.' is the decimal point */
    if (text != small)
        free(text);
    if (d == 0)
        d = 0; /* -0.0 equals 0.0 under Clojure's = */
    return d;
}

/* The encoding of a value that is not an array or an object, straight into out. */
static int encode_scalar(const struct json_val *v, struct buf *out)
{
    char tag;
    switch (v->type) {
    case JSON_NULL:
        tag = 'n';
        return buf_append(out, &tag, 1);
    case JSON_FALSE:
        tag = 'f';
        return buf_append(out, &tag, 1);
    case JSON_TRUE:
        tag = 't';
        return buf_append(out, &tag, 1);
    case JSON_NUMBER: {
        if (v->flags & JSON_F_INT) {
            const char *p = v->p;
            size_t n = v->len;
            int_text(&p, &n);
            char *dst = buf_reserve(out, n + 1);
            if (!dst)
                return -ENOBUFS;
            dst[0] = 'i';
            memcpy(dst + 1, p, n);
            buf_commit(out, n + 1);
            return 0;
        }
        double d = parse_double(v->p, v->len);
        char *dst = buf_reserve(out, 1 + sizeof(d));
        if (!dst)
            return -ENOBUFS;
        dst[0] = 'd';
        memcpy(dst + 1, &d, sizeof(d));
        buf_commit(out, 1 + sizeof(d));
        return 0;
    }
    case JSON_STRING: {
        char *dst = buf_reserve(out, v->len + 1);
        if (!dst)
            return -ENOBUFS;
        dst[0] = 's';
        ssize_t n = json_str_decode(v, dst + 1, v->len);
        ASSERT(n >= 0);
        buf_commit(out, (size_t)n + 1);
        return 0;
    }
    default:
        break;
    }
    ASSERT(!"encode_scalar of a container");
    return -EINVAL;
}

/* ==== Arrays and objects, in linear time ====
 *
 * The format puts each element's length before it, and an object's members in key order, so a
 * naive encoder that encodes each element into a buffer of its own and then copies it into its
 * parent copies the innermost bytes once per level: O(depth x length), 5 ms and more for a 2 KB
 * ID nested 997 deep, whatever was spent before to count and skip elements with iterators. So
 * containers take three passes over an index of the value's tokens, each linear:
 *   1. tokenize: one walk of the (already validated) text records every value's extent, links
 *      each to its next sibling, counts children and decodes escaped strings into the arena;
 *   2. size, children before parents (backwards through the tokens, which are in text order):
 *      each value's encoded length, and for each object its members sorted by key with repeats
 *      dropped (the only step that is not linear: a sort of each object's keys);
 *   3. write, top-down into space reserved once at the root's exact length.
 * The index costs 24 bytes per token, at most about 12 MiB for a 1 MiB line, kept in the caller's
 * canon_scratch between calls. */

#define ARENA_NONE UINT32_MAX /* a string whose decoded bytes are its text (no escapes) */

struct canon_tok {
    uint32_t start, len; /* the value's text in the input */
    uint32_t next;       /* next sibling's index, 0 for none (0 is the root, nobody's sibling) */
    uint32_t size;       /* its encoding's length (strings: from pass 1; others: pass 2) */
    uint32_t aux;        /* string: decoded bytes in the arena, or ARENA_NONE; number: its
                          * double in the arena; array: element count; object: children (keys
                          * and values) in pass 1, then where its sorted members are in perm */
    uint8_t type;        /* enum json_type */
    uint8_t is_int;      /* number: an integer literal */
};

struct canon_member {
    const uint8_t *key; /* decoded */
    uint32_t key_len;
    uint32_t order; /* position in the object: of repeated keys the last one counts */
    uint32_t tok;   /* the key's token (the value is the key's next) */
};

void canon_scratch_init(struct canon_scratch *sc)
{
    memset(sc, 0, sizeof(*sc));
}

void canon_scratch_fini(struct canon_scratch *sc)
{
    free(sc->tok);
    free(sc->perm);
    free(sc->members);
    free(sc->arena);
    memset(sc, 0, sizeof(*sc));
}

size_t canon_scratch_bytes(const struct canon_scratch *sc)
{
    return sc->tok_cap * sizeof(*sc->tok) + sc->perm_cap * sizeof(*sc->perm) +
           sc->members_cap * sizeof(*sc->members) + sc->arena_cap;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    *cap = c;
    return xrealloc(p, c * elem);
}

static uint32_t arena_put(struct canon_scratch *sc, const void *p, size_t n)
{
    sc->arena = grow(sc->arena, &sc->arena_cap, sc->arena_len + n, 1);
    uint32_t at = (uint32_t)sc->arena_len;
    memcpy(sc->arena + at, p, n);
    sc->arena_len += n;
    return at;
}

static const uint8_t *str_bytes(const struct canon_scratch *sc, const char *text,
                                const struct canon_tok *t)
{
    return t->aux == ARENA_NONE ? (const uint8_t *)text + t->start + 1
                                : (const uint8_t *)sc->arena + t->aux;
}

static size_t vlen(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* One string token starting at text[i] (a quote): its end, found with memchr, and its decoded
 * bytes when it has escapes. */
static void tokenize_string(struct canon_scratch *sc, const char *text, size_t n, size_t i,
                            struct canon_tok *t)
{
    const char *p = text + i + 1, *end = text + n;
    bool escaped = false;
    for (;;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        ASSERT(q);
        size_t slashes = 0;
        while (q - slashes > text + i + 1 && q[-1 - (ptrdiff_t)slashes] == '\\')
            slashes++;
        escaped |= slashes > 0 || memchr(p, '\\', (size_t)(q - p)) != NULL;
        p = q + 1;
        if (slashes % 2 == 0)
            break;
    }
    t->type = JSON_STRING;
    t->len = (uint32_t)(p - (text + i));
    t->aux = ARENA_NONE;
    t->size = 1 + t->len - 2;
    if (escaped) {
        struct json_val v = {
            .p = text + i, .len = t->len, .type = JSON_STRING, .flags = JSON_F_ESCAPED};
        sc->arena = grow(sc->arena, &sc->arena_cap, sc->arena_len + t->len, 1);
        ssize_t k = json_str_decode(&v, sc->arena + sc->arena_len, t->len);
        ASSERT(k >= 0);
        t->aux = (uint32_t)sc->arena_len;
        sc->arena_len += (size_t)k;
        t->size = 1 + (uint32_t)k;
    }
}

/* Pass 1. The text was validated by the scanner, so this only finds boundaries. */
static void tokenize(struct canon_scratch *sc, const char *text, size_t n)
{
    uint32_t open[JSON_DEPTH_MAX + 1], last[JSON_DEPTH_MAX + 1];
    int depth = 0;
    sc->ntok = 0;
    size_t i = 0;
    do {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ':') {
            i++;
            continue;
        }
        if (c == ']' || c == '}') {
            ASSERT(depth > 0);
            struct canon_tok *t = &sc->tok[open[--depth]];
            t->len = (uint32_t)(i + 1 - t->start);
            i++;
            continue;
        }
        sc->tok = grow(sc->tok, &sc->tok_cap, sc->ntok + 1, sizeof(*sc->tok));
        uint32_t k = (uint32_t)sc->ntok++;
        struct canon_tok *t = &sc->tok[k];
        *t = (struct canon_tok){.start = (uint32_t)i};
        if (depth > 0) {
            if (last[depth - 1])
                sc->tok[last[depth - 1]].next = k;
            last[depth - 1] = k;
            sc->tok[open[depth - 1]].aux++;
        }
        if (c == '[' || c == '{') {
            ASSERT(depth <= JSON_DEPTH_MAX);
            t->type = c == '[' ? JSON_ARRAY : JSON_OBJECT;
            open[depth] = k;
            last[depth] = 0;
            depth++;
            i++;
        } else if (c == '"') {
            tokenize_string(sc, text, n, i, t);
            i += t->len;
        } else if (c == 'n' || c == 't' || c == 'f') {
            t->type = c == 'n' ? JSON_NULL : c == 't' ? JSON_TRUE : JSON_FALSE;
            t->len = c == 'f' ? 5 : 4;
            i += t->len;
        } else {
            size_t j = i;
            while (j < n && (isdigit((unsigned char)text[j]) || text[j] == '-' || text[j] == '+' ||
                             text[j] == '.' || text[j] == 'e' || text[j] == 'E'))
                j++;
            ASSERT(j > i);
            t->type = JSON_NUMBER;
            t->len = (uint32_t)(j - i);
            t->is_int = is_int_text(text + i, j - i);
            i = j;
        }
    } while (depth > 0);
}

/* ==== Sorting keys ====
 *
 * qsort made a 60,000-key object cost tens of milliseconds: a million comparisons, and a
 * temporary array allocated (so page-faulted) on every call. Keys are sorted instead by an MSD
 * radix sort on their bytes: each level looks at one byte of the keys still in play, so the work
 * is the total length of the keys plus 257 counters per level that splits; a level at which all
 * keys agree just moves on to the next byte, and small groups finish with an insertion sort. The
 * largest bucket of each level is sorted by the loop itself and the others by recursion, so the
 * recursion is at most log2(keys) deep. The order among equal keys is left arbitrary: the caller
 * keeps the member that came last in the object, by `order`. */

#define RADIX_SMALL 24 /* groups this small are insertion-sorted */

/* Compares two keys from byte d on (both are at least d long and agree before d). */
static int key_cmp_from(const struct canon_member *x, const struct canon_member *y, size_t d)
{
    size_t n = EDDY_MIN(x->key_len, y->key_len) - d;
    int c = n ? memcmp(x->key + d, y->key + d, n) : 0;
    if (c)
        return c;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static void insertion_sort(struct canon_member *m, size_t n, size_t d)
{
    for (size_t i = 1; i < n; i++) {
        struct canon_member x = m[i];
        size_t j = i;
        while (j > 0 && key_cmp_from(&m[j - 1], &x, d) > 0) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = x;
    }
}

static unsigned radix_bucket(const struct canon_member *x, size_t d)
{
    return x->key_len > d ? (unsigned)x->key[d] + 1 : 0; /* 0: the key ends here */
}

static void radix_sort(struct canon_member *m, size_t n, size_t d, struct canon_member *tmp)
{
    while (n > RADIX_SMALL) {
        uint32_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[radix_bucket(&m[i], d)]++;
        unsigned biggest = 0;
        for (unsigned b = 1; b < 257; b++)
            if (count[b] > count[biggest])
                biggest = b;
        if (count[biggest] == n) {
            if (biggest == 0)
                return; /* every key ends here: all equal */
            d++;        /* every key has the same byte here */
            continue;
        }
        uint32_t at[257], pos = 0;
        for (unsigned b = 0; b < 257; b++) {
            at[b] = pos;
            pos += count[b];
        }
        for (size_t i = 0; i < n; i++)
            tmp[at[radix_bucket(&m[i], d)]++] = m[i];
        memcpy(m, tmp, n * sizeof(*m));
        /* Bucket 0 holds keys that end at d: equal, nothing to sort. */
        for (unsigned b = 1; b < 257; b++) {
            size_t from = at[b] - count[b];
            if (b != biggest && count[b] > 1)
                radix_sort(m + from, count[b], d + 1, tmp);
        }
        if (biggest == 0)
            return;
        m += at[biggest] - count[biggest];
        n = count[biggest];
        d++;
    }
    insertion_sort(m, n, d);
}

static bool same_key(const struct canon_member *x, const struct canon_member *y)
{
    return x->key_len == y->key_len && (x->key_len == 0 || memcmp(x->key, y->key, x->key_len) == 0);
}

/* Pass 2 for one object: its members sorted by key, repeats dropped (the last one counts), into
 * perm as [kept, key token...]; returns its encoded length. */
static uint64_t size_object(struct canon_scratch *sc, const char *text, uint32_t k)
{
    struct canon_tok *t = &sc->tok[k];
    uint32_t count = t->aux / 2;
    /* members[0..count) are sorted; members[count..2 count) is the sort's scratch. */
    sc->members = grow(sc->members, &sc->members_cap, 2 * (size_t)count, sizeof(*sc->members));
    uint32_t c = count ? k + 1 : 0;
    for (uint32_t m = 0; m < count; m++) {
        const struct canon_tok *key = &sc->tok[c];
        ASSERT(key->type == JSON_STRING);
        sc->members[m] = (struct canon_member){
            .key = str_bytes(sc, text, key), .key_len = key->size - 1, .order = m, .tok = c};
        c = sc->tok[key->next].next;
    }
    radix_sort(sc->members, count, 0, sc->members + count);
    sc->perm = grow(sc->perm, &sc->perm_cap, sc->perm_len + count + 1, sizeof(*sc->perm));
    uint32_t at = (uint32_t)sc->perm_len, kept = 0;
    uint64_t size = 0;
    for (uint32_t m = 0; m < count;) {
        /* Of a run of equal keys, the member that came last in the object counts. */
        const struct canon_member *mm = &sc->members[m];
        uint32_t r = m + 1;
        for (; r < count && same_key(&sc->members[r], mm); r++)
            if (sc->members[r].order > mm->order)
                mm = &sc->members[r];
        m = r;
        const struct canon_tok *val = &sc->tok[sc->tok[mm->tok].next];
        sc->perm[at + 1 + kept++] = mm->tok;
        size += vlen(mm->key_len) + mm->key_len + vlen(val->size) + val->size;
    }
    sc->perm[at] = kept;
    sc->perm_len += 1 + kept;
    t->aux = at;
    return 1 + vlen(kept) + size;
}

/* Pass 2: every token's encoded length, children (later tokens) before parents. */
static int size_all(struct canon_scratch *sc, const char *text)
{
    sc->perm_len = 0;
    for (size_t k = sc->ntok; k-- > 0;) {
        struct canon_tok *t = &sc->tok[k];
        uint64_t size;
        switch (t->type) {
        case JSON_NULL:
        case JSON_TRUE:
        case JSON_FALSE:
            size = 1;
            break;
        case JSON_STRING:
            size = t->size;
            break;
        case JSON_NUMBER:
            if (t->is_int) {
                const char *p = text + t->start;
                size_t n = t->len;
                int_text(&p, &n);
                size = 1 + n;
            } else {
                double d = parse_double(text + t->start, t->len);
                t->aux = arena_put(sc, &d, sizeof(d));
                size = 1 + sizeof(d);
            }
            break;
        case JSON_ARRAY:
            size = 1 + vlen(t->aux);
            for (uint32_t c = t->aux ? (uint32_t)k + 1 : 0; c; c = sc->tok[c].next)
                size += vlen(sc->tok[c].size) + sc->tok[c].size;
            break;
        case JSON_OBJECT:
            size = size_object(sc, text, (uint32_t)k);
            break;
        default:
            ASSERT(!"a token without a type");
            return -EINVAL;
        }
        if (size > UINT32_MAX)
            return -ENOBUFS;
        t->size = (uint32_t)size;
    }
    return 0;
}

static uint8_t *put_varint_at(uint8_t *p, uint64_t v)
{
    return p + canon_put_varint(p, v);
}

/* Pass 3: token k's encoding at p; returns the end. Recursion is bounded by JSON_DEPTH_MAX. */
static uint8_t *write_tok(const struct canon_scratch *sc, const char *text, uint32_t k, uint8_t *p)
{
    const struct canon_tok *t = &sc->tok[k];
    uint8_t *start = p;
    switch (t->type) {
    case JSON_NULL:
        *p++ = 'n';
        break;
    case JSON_TRUE:
        *p++ = 't';
        break;
    case JSON_FALSE:
        *p++ = 'f';
        break;
    case JSON_STRING:
        *p++ = 's';
        memcpy(p, str_bytes(sc, text, t), t->size - 1u);
        p += t->size - 1u;
        break;
    case JSON_NUMBER:
        if (t->is_int) {
            const char *q = text + t->start;
            size_t n = t->len;
            int_text(&q, &n);
            *p++ = 'i';
            memcpy(p, q, n);
            p += n;
        } else {
            *p++ = 'd';
            memcpy(p, sc->arena + t->aux, sizeof(double));
            p += sizeof(double);
        }
        break;
    case JSON_ARRAY:
        *p++ = 'a';
        p = put_varint_at(p, t->aux);
        for (uint32_t c = t->aux ? k + 1 : 0; c; c = sc->tok[c].next) {
            p = put_varint_at(p, sc->tok[c].size);
            p = write_tok(sc, text, c, p);
        }
        break;
    case JSON_OBJECT: {
        uint32_t kept = sc->perm[t->aux];
        *p++ = 'o';
        p = put_varint_at(p, kept);
        for (uint32_t m = 0; m < kept; m++) {
            const struct canon_tok *key = &sc->tok[sc->perm[t->aux + 1 + m]];
            p = put_varint_at(p, key->size - 1u);
            memcpy(p, str_bytes(sc, text, key), key->size - 1u);
            p += key->size - 1u;
            p = put_varint_at(p, sc->tok[key->next].size);
            p = write_tok(sc, text, key->next, p);
        }
        break;
    }
    default:
        ASSERT(!"a token without a type");
    }
    ASSERT((size_t)(p - start) == t->size);
    return p;
}

int canon_encode_with(const struct json_val *v, struct buf *out, struct canon_scratch *sc)
{
    ASSERT(v->type != JSON_NONE);
    if (v->type != JSON_ARRAY && v->type != JSON_OBJECT)
        return encode_scalar(v, out);
    if (v->len >= CANON_TEXT_MAX)
        return -ENOBUFS;
    sc->arena_len = 0;
    tokenize(sc, v->p, v->len);
    int rc = size_all(sc, v->p);
    if (rc < 0)
        return rc;
    uint8_t *dst = (uint8_t *)buf_reserve(out, sc->tok[0].size);
    if (!dst)
        return -ENOBUFS;
    uint8_t *end = write_tok(sc, v->p, 0, dst);
    buf_commit(out, (size_t)(end - dst));
    return 0;
}

int canon_encode(const struct json_val *v, struct buf *out)
{
    if (v->type != JSON_ARRAY && v->type != JSON_OBJECT)
        return encode_scalar(v, out);
    struct canon_scratch sc;
    canon_scratch_init(&sc);
    int rc = canon_encode_with(v, out, &sc);
    canon_scratch_fini(&sc);
    return rc;
}

/* ==== Back to JSON ==== */

static int put_text(struct buf *out, const char *p, size_t n)
{
    return buf_append(out, p, n);
}

/* A string's bytes escaped, in chunks cut at character boundaries so that the scratch stays
 * small whatever the string's length. */
/* A surrogate code point in WTF-8 (ED A0..BF 80..BF): what a lone "\ud800" escape decodes to.
 * Returns the code point, or 0. */
static unsigned wtf8_surrogate(const uint8_t *p, size_t n)
{
    if (n < 3 || p[0] != 0xED || p[1] < 0xA0 || p[1] > 0xBF || (p[2] & 0xC0) != 0x80)
        return 0;
    return 0xD000u | ((unsigned)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
}

static int put_string(struct buf *out, const uint8_t *p, size_t n)
{
    enum { CHUNK = 4096 };
    char tmp[json_escaped_max(CHUNK)];
    int rc = put_text(out, "\"", 1);
    while (rc == 0 && n > 0) {
        unsigned sur = wtf8_surrogate(p, n);
        if (sur) {
            /* Written back as the escape it came from: json_escape would make it U+FFFD. */
            char esc[8];
            snprintf(esc, sizeof(esc), "\\u%04x", sur);
            rc = put_text(out, esc, 6);
            p += 3;
            n -= 3;
            continue;
        }
        size_t take = 1;
        while (take < n && take < CHUNK && !(p[take] == 0xED && wtf8_surrogate(p + take, n - take)))
            take++;
        while (take < n && take > 1 && (p[take] & 0xC0) == 0x80)
            take--;
        size_t k = json_escape(tmp, (const char *)p, take);
        rc = put_text(out, tmp + 1, k - 2); /* without json_escape's quotes */
        p += take;
        n -= take;
    }
    return rc == 0 ? put_text(out, "\"", 1) : rc;
}

static int put_double(struct buf *out, double d)
{
    char t[40];
    if (isinf(d))
        return put_text(out, d > 0 ? "1e999" : "-1e999", d > 0 ? 5 : 6);
    int k = 0;
    for (int prec = 1; prec <= 17; prec++) {
        k = snprintf(t, sizeof(t), "%.*g", prec, d);
        if (strtod(t, NULL) == d)
            break;
    }
    if (!strpbrk(t, ".e"))
        k += snprintf(t + k, sizeof(t) - (size_t)k, ".0"); /* still a float */
    return put_text(out, t, (size_t)k);
}

static int to_json(const uint8_t *e, size_t len, struct buf *out, int depth)
{
    if (len == 0 || depth > JSON_DEPTH_MAX + 1)
        return -EINVAL;
    const uint8_t *p = e + 1, *end = e + len;
    uint64_t count, n;
    size_t k;
    switch (e[0]) {
    case 'n':
        return put_text(out, "null", 4);
    case 't':
        return put_text(out, "true", 4);
    case 'f':
        return put_text(out, "false", 5);
    case 'i':
        return put_text(out, (const char *)p, len - 1);
    case 'd': {
        double d;
        if (len != 1 + sizeof(d))
            return -EINVAL;
        memcpy(&d, p, sizeof(d));
        return put_double(out, d);
    }
    case 's':
        return put_string(out, p, len - 1);
    case 'a':
    case 'o': {
        bool obj = e[0] == 'o';
        if (!(k = canon_get_varint(p, (size_t)(end - p), &count)))
            return -EINVAL;
        p += k;
        int rc = put_text(out, obj ? "{" : "[", 1);
        for (uint64_t i = 0; i < count && rc == 0; i++) {
            if (i)
                rc = put_text(out, ",", 1);
            if (rc == 0 && obj) {
                if (!(k = canon_get_varint(p, (size_t)(end - p), &n)) || n > (size_t)(end - p - k))
                    return -EINVAL;
                rc = put_string(out, p + k, (size_t)n);
                p += k + n;
                if (rc == 0)
                    rc = put_text(out, ":", 1);
            }
            if (rc < 0)
                break;
            if (!(k = canon_get_varint(p, (size_t)(end - p), &n)) || n > (size_t)(end - p - k))
                return -EINVAL;
            rc = to_json(p + k, (size_t)n, out, depth + 1);
            p += k + n;
        }
        return rc == 0 ? put_text(out, obj ? "}" : "]", 1) : rc;
    }
    default:
        return -EINVAL;
    }
}

int canon_to_json(const uint8_t *enc, size_t len, struct buf *out)
{
    return to_json(enc, len, out, 0);
}

/* ==== Order ==== */

const char *canon_type_name(const uint8_t *enc, size_t len)
{
    if (len == 0)
        return "nothing";
    switch (enc[0]) {
    case 'n':
        return "null";
    case 'f':
    case 't':
        return "boolean";
    case 'i':
        return "integer";
    case 'd':
        return "float";
    case 's':
        return "string";
    case 'a':
        return "array";
    case 'o':
        return "object";
    default:
        return "unknown";
    }
}

static int sign(int c)
{
    return (c > 0) - (c < 0);
}

static int cmp_int_text(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    bool na = an && a[0] == '-', nb = bn && b[0] == '-';
    if (na != nb)
        return na ? -1 : 1;
    if (na) {
        a++, an--, b++, bn--;
    }
    int c = an != bn ? (an < bn ? -1 : 1) : sign(memcmp(a, b, an));
    return na ? -c : c;
}

static double num_as_double(const uint8_t *enc, size_t len)
{
    if (enc[0] == 'd') {
        double d;
        memcpy(&d, enc + 1, sizeof(d));
        return d;
    }
    char small[64];
    char *tmp = len - 1 < sizeof(small) ? small : xmalloc(len);
    memcpy(tmp, enc + 1, len - 1);
    tmp[len - 1] = '\0';
    double d = strtod(tmp, NULL); /* exact rounding, whatever the number of digits */
    if (tmp != small)
        free(tmp);
    return d;
}

/* Next UTF-16 code unit of a UTF-8 (or WTF-8) string; *pending holds a low surrogate. */
static int utf16_next(const uint8_t **p, const uint8_t *end, unsigned *pending)
{
    if (*pending) {
        int u = (int)*pending;
        *pending = 0;
        return u;
    }
    if (*p >= end)
        return -1;
    unsigned c = *(*p)++;
    unsigned cp;
    int extra;
    if (c < 0x80) {
        return (int)c;
    } else if (c < 0xE0) {
        cp = c & 0x1F;
        extra = 1;
    } else if (c < 0xF0) {
        cp = c & 0x0F;
        extra = 2;
    } else {
        cp = c & 0x07;
        extra = 3;
    }
    for (int i = 0; i < extra && *p < end; i++)
        cp = (cp << 6) | (*(*p)++ & 0x3F);
    if (cp >= 0x10000) {
        cp -= 0x10000;
        *pending = 0xDC00 + (cp & 0x3FF);
        return (int)(0xD800 + (cp >> 10));
    }
    return (int)cp;
}

static int cmp_string(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    /* UTF-8 byte order is code point order, which is UTF-16 order except above U+E000: so where
     * the first difference is between two ASCII bytes (or one string ends), memcmp decides. */
    size_t n = an < bn ? an : bn, i = 0;
    while (i < n && a[i] == b[i])
        i++;
    if (i == n)
        return an == bn ? 0 : (an < bn ? -1 : 1);
    if (a[i] < 0x80 && b[i] < 0x80)
        return a[i] < b[i] ? -1 : 1;
    const uint8_t *ae = a + an, *be = b + bn;
    unsigned pa = 0, pb = 0;
    for (;;) {
        int x = utf16_next(&a, ae, &pa);
        int y = utf16_next(&b, be, &pb);
        if (x < 0 || y < 0)
            return x < 0 ? (y < 0 ? 0 : -1) : 1;
        if (x != y)
            return x < y ? -1 : 1;
    }
}

static int cmp_array(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    uint64_t ca = 0, cb = 0;
    size_t ka = canon_get_varint(a, an, &ca), kb = canon_get_varint(b, bn, &cb);
    ASSERT(ka && kb);
    if (ca != cb)
        return ca < cb ? -1 : 1; /* Clojure vectors compare by length first */
    a += ka, an -= ka, b += kb, bn -= kb;
    for (uint64_t i = 0; i < ca; i++) {
        uint64_t la = 0, lb = 0;
        ka = canon_get_varint(a, an, &la);
        kb = canon_get_varint(b, bn, &lb);
        ASSERT(ka && kb);
        int c = canon_compare(a + ka, la, b + kb, lb);
        if (c != 0)
            return c;
        a += ka + la, an -= ka + la, b += kb + lb, bn -= kb + lb;
    }
    return 0;
}

static bool is_num(uint8_t t)
{
    return t == 'i' || t == 'd';
}

int canon_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    ASSERT(alen > 0);
    ASSERT(blen > 0);
    uint8_t ta = a[0], tb = b[0];
    if (ta == 'n' || tb == 'n')
        return ta == tb ? 0 : (ta == 'n' ? -1 : 1);
    if (is_num(ta) && is_num(tb)) {
        if (ta == 'i' && tb == 'i')
            return cmp_int_text(a + 1, alen - 1, b + 1, blen - 1);
        double x = num_as_double(a, alen), y = num_as_double(b, blen);
        return (x > y) - (x < y);
    }
    if (ta != tb) {
        bool both_bool = (ta == 't' || ta == 'f') && (tb == 't' || tb == 'f');
        return both_bool ? (ta == 'f' ? -1 : 1) : CANON_INCOMPARABLE;
    }
    switch (ta) {
    case 't':
    case 'f':
        return 0;
    case 's':
        return cmp_string(a + 1, alen - 1, b + 1, blen - 1);
    case 'a':
        return cmp_array(a + 1, alen - 1, b + 1, blen - 1);
    default:
        return CANON_INCOMPARABLE; /* maps are not Comparable in Clojure */
    }
}
