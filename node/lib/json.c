/*
 * json.c: the validating slice scanner of json.h.
 *
 * One loop with explicit states replaces the usual recursive descent: containers push one bit
 * (object or array) on a fixed bit stack, so the depth limit is a bounds check and memory use is
 * constant. Strings are scanned with a fast path for plain ASCII, which is nearly every byte
 * Maelstrom traffic carries, and a full UTF-8 check for the rest.
 * Depends on: util. Used by: msg, node, sim.
 */
#include "eddy/json.h"
#include "eddy/util.h"

#include <errno.h>
#include <string.h>

/* ==== Scanning ==== */

struct scan {
    const char *p;
    const char *end;
    const char *base;
    struct json_err *e;
};

static int scan_fail(struct scan *s, const char *what)
{
    if (s->e) {
        s->e->offset = (size_t)(s->p - s->base);
        s->e->what = what;
    }
    return -EBADMSG;
}

static inline void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static inline bool is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Length of the well-formed UTF-8 sequence at p (1..4), or 0 if it is not well-formed
 * (overlong forms, UTF-16 surrogates and code points above U+10FFFF are refused). */
static size_t utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t avail = (size_t)(end - p);
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (avail >= 2 && is_cont(p[1])) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || !is_cont(p[1]) || !is_cont(p[2]))
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0;
        if (c == 0xED && p[1] > 0x9F)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || !is_cont(p[1]) || !is_cont(p[2]) || !is_cont(p[3]))
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0;
        if (c == 0xF4 && p[1] > 0x8F)
            return 0;
        return 4;
    }
    return 0;
}

static inline bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Eight bytes at a time: nonzero when any byte of x is a control character, non-ASCII, a quote or
 * a backslash. Each test is the classic "has a zero byte" / "has a byte below n" word trick,
 * which can flag extra bytes after a real one but never misses one, so a zero result lets the
 * whole word be skipped. */
#define BYTES_ONES 0x0101010101010101ull
#define BYTES_HIGHS 0x8080808080808080ull

static inline uint64_t word_has_zero(uint64_t x)
{
    return (x - BYTES_ONES) & ~x & BYTES_HIGHS;
}

static inline uint64_t word_stops_string(uint64_t x)
{
    uint64_t below_space = (x - BYTES_ONES * 0x20) & ~x & BYTES_HIGHS;
    return below_space | (x & BYTES_HIGHS) | word_has_zero(x ^ (BYTES_ONES * '"')) |
           word_has_zero(x ^ (BYTES_ONES * '\\'));
}

/* s->p is at the opening quote. Leaves s->p after the closing quote. */
static int scan_string(struct scan *s, bool *escaped)
{
    const unsigned char *p = (const unsigned char *)s->p + 1;
    const unsigned char *end = (const unsigned char *)s->end;
    for (;;) {
        /* Find the next byte that needs a look: eight at a time while eight remain (the lowest
         * flagged byte of a word is always a real one: the word tricks only flag extra bytes
         * above a real one), then one at a time. */
        for (;;) {
            uint64_t w, stop;
            if (end - p < 8) {
                while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
                    p++;
                break;
            }
            memcpy(&w, p, sizeof(w));
            if ((stop = word_stops_string(w)) != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                p += (unsigned)__builtin_ctzll(stop) >> 3;
#else
                while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
                    p++;
#endif
                break;
            }
            p += 8;
        }
        if (p >= end) {
            s->p = (const char *)p;
            return scan_fail(s, "unterminated string");
        }
        if (*p == '"') {
            s->p = (const char *)p + 1;
            return 0;
        }
        if (*p == '\\') {
            *escaped = true;
            if (p + 1 >= end) {
                s->p = (const char *)p;
                return scan_fail(s, "unterminated escape");
            }
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                p += 2;
                continue;
            case 'u':
                if (end - p < 6 || !is_hex((char)p[2]) || !is_hex((char)p[3]) ||
                    !is_hex((char)p[4]) || !is_hex((char)p[5])) {
                    s->p = (const char *)p;
                    return scan_fail(s, "bad \\u escape");
                }
                p += 6;
                continue;
            default:
                s->p = (const char *)p;
                return scan_fail(s, "bad escape");
            }
        }
        if (*p < 0x20) {
            s->p = (const char *)p;
            return scan_fail(s, *p == 0 ? "NUL byte in string" : "control character in string");
        }
        size_t n = utf8_seq_len(p, end);
        if (n == 0) {
            s->p = (const char *)p;
            return scan_fail(s, "invalid UTF-8 in string");
        }
        p += n;
    }
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* s->p is at '-' or a digit. */
static int scan_number(struct scan *s, unsigned *flags)
{
    const char *p = s->p;
    unsigned f = JSON_F_INT;
    if (*p == '-') {
        f |= JSON_F_NEG;
        p++;
    }
    if (p >= s->end || !is_digit(*p)) {
        s->p = p;
        return scan_fail(s, "bad number");
    }
    if (*p == '0') {
        p++;
    } else {
        while (p < s->end && is_digit(*p))
            p++;
    }
    if (p < s->end && *p == '.') {
        f &= ~JSON_F_INT;
        p++;
        if (p >= s->end || !is_digit(*p)) {
            s->p = p;
            return scan_fail(s, "bad fraction");
        }
        while (p < s->end && is_digit(*p))
            p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        f &= ~JSON_F_INT;
        p++;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= s->end || !is_digit(*p)) {
            s->p = p;
            return scan_fail(s, "bad exponent");
        }
        while (p < s->end && is_digit(*p))
            p++;
    }
    s->p = p;
    *flags = f;
    return 0;
}

static int scan_literal(struct scan *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return scan_fail(s, "unexpected character");
    s->p += n;
    return 0;
}

static enum json_type type_of(char c)
{
    switch (c) {
    case '{':
        return JSON_OBJECT;
    case '[':
        return JSON_ARRAY;
    case '"':
        return JSON_STRING;
    case 't':
        return JSON_TRUE;
    case 'f':
        return JSON_FALSE;
    case 'n':
        return JSON_NULL;
    default:
        return JSON_NUMBER;
    }
}

/* The bit stack: bit set = inside an object, clear = inside an array. */
#define STACK_BYTES ((JSON_DEPTH_MAX + 7) / 8)

static inline void stack_set(unsigned char *st, int depth, bool obj)
{
    if (obj)
        st[depth >> 3] |= (unsigned char)(1u << (depth & 7));
    else
        st[depth >> 3] &= (unsigned char)~(1u << (depth & 7));
}

static inline bool stack_is_obj(const unsigned char *st, int depth)
{
    return st[depth >> 3] & (1u << (depth & 7));
}

/* Members are recorded (when t is not NULL) for the top-level object (depth 1) and for the objects
 * that are its members' values (depth 2). open[d] is the member at depth d whose value is being
 * scanned, -1 when none; a member is completed when its value ends, at `next` with that depth. */
static void member_open(struct json_members *t, int open[3], int depth, const char *key,
                        size_t key_len, unsigned key_flags, const char *val)
{
    open[depth] = -1;
    if (depth == 2 && open[1] < 0)
        return; /* an object inside an array, or under a member not recorded */
    if (t->n == JSON_MEMBERS_MAX) {
        t->overflow = true;
        return;
    }
    struct json_member *m = &t->m[t->n];
    m->key = (struct json_val){.p = key, .len = key_len, .type = JSON_STRING, .flags = key_flags};
    m->val = (struct json_val){.p = val};
    m->parent = depth == 1 ? -1 : open[1];
    open[depth] = (int)t->n++;
}

static void member_close(struct json_members *t, int open[3], int depth, const char *end,
                         unsigned flags)
{
    if (open[depth] < 0)
        return;
    struct json_val *v = &t->m[open[depth]].val;
    v->len = (size_t)(end - v->p);
    v->type = type_of(*v->p);
    v->flags = v->type == JSON_OBJECT || v->type == JSON_ARRAY ? 0 : flags;
    open[depth] = -1;
}

static ssize_t scan(const char *text, size_t len, bool whole, struct json_val *v,
                    struct json_err *e, struct json_members *t)
{
    struct scan s = {.p = text, .end = text + len, .base = text, .e = e};
    unsigned char stack[STACK_BYTES];
    int depth = 0; /* number of open containers */
    unsigned flags = 0;
    bool escaped = false;
    int rc;
    int open[3] = {-1, -1, -1}; /* see member_open */
    unsigned last = 0;          /* flags of the last scalar, as json_iter would give them */
    if (t) {
        t->n = 0;
        t->overflow = false;
    }

    skip_ws(&s);
    const char *start = s.p;

value:
    if (s.p >= s.end)
        return scan_fail(&s, depth ? "unexpected end inside a container" : "no value");
    switch (*s.p) {
    case '{':
    case '[': {
        bool obj = *s.p == '{';
        if (depth == JSON_DEPTH_MAX) {
            scan_fail(&s, "nested too deeply");
            return -ELOOP;
        }
        stack_set(stack, depth++, obj);
        s.p++;
        skip_ws(&s);
        if (s.p < s.end && *s.p == (obj ? '}' : ']')) {
            s.p++;
            depth--;
            last = 0;
            goto next;
        }
        if (obj)
            goto key;
        goto value;
    }
    case '"':
        escaped = false;
        if ((rc = scan_string(&s, &escaped)) < 0)
            return rc;
        last = escaped ? JSON_F_ESCAPED : 0;
        if (depth == 0)
            flags |= last;
        goto next;
    case 't':
        if ((rc = scan_literal(&s, "true", 4)) < 0)
            return rc;
        last = 0;
        goto next;
    case 'f':
        if ((rc = scan_literal(&s, "false", 5)) < 0)
            return rc;
        last = 0;
        goto next;
    case 'n':
        if ((rc = scan_literal(&s, "null", 4)) < 0)
            return rc;
        last = 0;
        goto next;
    default:
        if (*s.p == '-' || is_digit(*s.p)) {
            if ((rc = scan_number(&s, &last)) < 0)
                return rc;
            if (depth == 0)
                flags |= last;
            goto next;
        }
        return scan_fail(&s, *s.p == '\0' ? "NUL byte" : "unexpected character");
    }

key:
    /* s.p is at the first non-space byte after '{' or ','. */
    if (s.p >= s.end)
        return scan_fail(&s, "unexpected end inside an object");
    if (*s.p != '"')
        return scan_fail(&s, "expected a string key");
    {
        const char *key = s.p;
        bool key_escaped = false;
        if ((rc = scan_string(&s, &key_escaped)) < 0)
            return rc;
        size_t key_len = (size_t)(s.p - key);
        skip_ws(&s);
        if (s.p >= s.end || *s.p != ':')
            return scan_fail(&s, "expected ':'");
        s.p++;
        skip_ws(&s);
        if (t && depth <= 2)
            member_open(t, open, depth, key, key_len, key_escaped ? JSON_F_ESCAPED : 0, s.p);
    }
    goto value;

next:
    /* A value just ended; decide what follows it. */
    if (depth == 0)
        goto done;
    if (t && depth <= 2)
        member_close(t, open, depth, s.p, last);
    skip_ws(&s);
    if (s.p >= s.end)
        return scan_fail(&s, "unexpected end inside a container");
    if (stack_is_obj(stack, depth - 1)) {
        if (*s.p == ',') {
            s.p++;
            skip_ws(&s);
            goto key;
        }
        if (*s.p == '}') {
            s.p++;
            depth--;
            last = 0;
            goto next;
        }
        return scan_fail(&s, "expected ',' or '}'");
    }
    if (*s.p == ',') {
        s.p++;
        skip_ws(&s);
        goto value;
    }
    if (*s.p == ']') {
        s.p++;
        depth--;
        last = 0;
        goto next;
    }
    return scan_fail(&s, "expected ',' or ']'");

done:
    v->p = start;
    v->len = (size_t)(s.p - start);
    v->type = type_of(*start);
    v->flags = flags;
    if (whole) {
        const char *after = s.p;
        skip_ws(&s);
        if (s.p != s.end)
            return scan_fail(&s, "trailing characters after the value");
        s.p = after;
    }
    return s.p - text;
}

ssize_t json_scan(const char *text, size_t len, bool whole, struct json_val *v, struct json_err *e)
{
    return scan(text, len, whole, v, e, NULL);
}

ssize_t json_scan_members(const char *text, size_t len, bool whole, struct json_val *v,
                          struct json_err *e, struct json_members *t)
{
    return scan(text, len, whole, v, e, t);
}

/* ==== Iteration over validated containers ==== */

void json_iter_init(struct json_iter *it, const struct json_val *container)
{
    ASSERT(container->type == JSON_OBJECT || container->type == JSON_ARRAY);
    ASSERT(container->len >= 2);
    it->p = container->p + 1;
    it->end = container->p + container->len - 1;
    it->first = true;
}

static void iter_skip_ws(struct json_iter *it)
{
    while (it->p < it->end && (*it->p == ' ' || *it->p == '\t' || *it->p == '\n' || *it->p == '\r'))
        it->p++;
}

/* Skips one value of text already validated by json_scan, filling *val. No checks are
 * repeated (that would triple the cost of every message), but the flags are computed, and the
 * result is asserted to stay inside the container. */
static void iter_value(struct json_iter *it, struct json_val *val)
{
    iter_skip_ws(it);
    const char *p = it->p, *end = it->end;
    const char *start = p;
    unsigned flags = 0;
    char c = *p;
    if (c == '"') {
        p++;
        for (;;) {
            const char *q = memchr(p, '"', (size_t)(end - p));
            ASSERT(q);
            /* A quote preceded by an odd run of backslashes is escaped. */
            const char *b = q;
            while (b > p && b[-1] == '\\')
                b--;
            if (b < q)
                flags |= JSON_F_ESCAPED;
            if ((q - b) % 2 == 0) {
                p = q + 1;
                break;
            }
            p = q + 1;
        }
        if (!(flags & JSON_F_ESCAPED) && memchr(start + 1, '\\', (size_t)(p - start - 2)))
            flags |= JSON_F_ESCAPED;
    } else if (c == '{' || c == '[') {
        int depth = 0;
        bool in_str = false;
        for (; p < end; p++) {
            char d = *p;
            if (in_str) {
                if (d == '\\')
                    p++;
                else if (d == '"')
                    in_str = false;
                continue;
            }
            if (d == '"')
                in_str = true;
            else if (d == '{' || d == '[')
                depth++;
            else if ((d == '}' || d == ']') && --depth == 0) {
                p++;
                break;
            }
        }
        ASSERT(depth == 0);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        flags = JSON_F_INT | (c == '-' ? JSON_F_NEG : 0);
        for (p++; p < end; p++) {
            char d = *p;
            if (d == '.' || d == 'e' || d == 'E')
                flags &= ~JSON_F_INT;
            else if (!(d >= '0' && d <= '9') && d != '+' && d != '-')
                break;
        }
    } else {
        p += c == 'f' ? 5 : 4; /* true, null, false */
    }
    ASSERT(p <= end);
    val->p = start;
    val->len = (size_t)(p - start);
    val->type = type_of(c);
    val->flags = flags;
    it->p = p;
}

int json_iter_next(struct json_iter *it, struct json_val *key, struct json_val *val)
{
    iter_skip_ws(it);
    if (it->p >= it->end)
        return 0;
    if (!it->first) {
        ASSERT(*it->p == ',');
        it->p++;
    }
    it->first = false;
    iter_value(it, key);
    ASSERT(key->type == JSON_STRING);
    iter_skip_ws(it);
    ASSERT(it->p < it->end);
    ASSERT(*it->p == ':');
    it->p++;
    iter_value(it, val);
    return 1;
}

int json_iter_next_elem(struct json_iter *it, struct json_val *val)
{
    iter_skip_ws(it);
    if (it->p >= it->end)
        return 0;
    if (!it->first) {
        ASSERT(*it->p == ',');
        it->p++;
    }
    it->first = false;
    iter_value(it, val);
    return 1;
}

/* ==== Strings ==== */

static unsigned hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else
            v |= (unsigned)(c - 'A' + 10);
    }
    return v;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes one character of a validated string body at *pp (before end) into out[0..4) and
 * returns its byte count. */
static size_t str_next(const char **pp, const char *end, char out[4])
{
    const char *p = *pp;
    if (*p != '\\') {
        out[0] = *p;
        *pp = p + 1;
        return 1;
    }
    char c = p[1];
    *pp = p + 2;
    switch (c) {
    case 'b':
        out[0] = '\b';
        return 1;
    case 'f':
        out[0] = '\f';
        return 1;
    case 'n':
        out[0] = '\n';
        return 1;
    case 'r':
        out[0] = '\r';
        return 1;
    case 't':
        out[0] = '\t';
        return 1;
    case 'u':
        break;
    default:
        out[0] = c;
        return 1;
    }
    unsigned cp = hex4(p + 2);
    *pp = p + 6;
    if (cp >= 0xD800 && cp <= 0xDBFF && end - (p + 6) >= 6 && p[6] == '\\' && p[7] == 'u') {
        unsigned lo = hex4(p + 8);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            *pp = p + 12;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
    }
    return put_utf8(out, cp);
}

bool json_str_eq(const struct json_val *s, const char *want, size_t n)
{
    ASSERT(s->type == JSON_STRING);
    const char *p = s->p + 1;
    const char *end = s->p + s->len - 1;
    if (!(s->flags & JSON_F_ESCAPED))
        return (size_t)(end - p) == n && memcmp(p, want, n) == 0;
    size_t at = 0;
    while (p < end) {
        char ch[4];
        size_t k = str_next(&p, end, ch);
        if (at + k > n || memcmp(want + at, ch, k) != 0)
            return false;
        at += k;
    }
    return at == n;
}

ssize_t json_str_decode(const struct json_val *s, char *out, size_t cap)
{
    ASSERT(s->type == JSON_STRING);
    const char *p = s->p + 1;
    const char *end = s->p + s->len - 1;
    size_t at = 0;
    if (!(s->flags & JSON_F_ESCAPED)) {
        size_t n = (size_t)(end - p);
        if (n > cap)
            return -ENOBUFS;
        memcpy(out, p, n);
        return (ssize_t)n;
    }
    while (p < end) {
        char ch[4];
        size_t k = str_next(&p, end, ch);
        if (at + k > cap)
            return -ENOBUFS;
        memcpy(out + at, ch, k);
        at += k;
    }
    return (ssize_t)at;
}

/* ==== Numbers ==== */

int json_to_i64(const struct json_val *num, int64_t *out)
{
    if (num->type != JSON_NUMBER || !(num->flags & JSON_F_INT))
        return -EINVAL;
    const char *p = num->p;
    const char *end = num->p + num->len;
    bool neg = *p == '-';
    if (neg)
        p++;
    uint64_t v = 0;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; p < end; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (limit - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static unsigned decimal_digits(uint64_t v)
{
    unsigned n = 1;
    for (;;) {
        if (v < 10)
            return n;
        if (v < 100)
            return n + 1;
        if (v < 1000)
            return n + 2;
        if (v < 10000)
            return n + 3;
        v /= 10000;
        n += 4;
    }
}

size_t json_fmt_u64(char *out, uint64_t v)
{
    /* Two digits per division, written from the end straight into out once the length is
     * known (a temporary and a memcpy of variable length cost as much again): the history
     * writes several numbers per op, and a request carries two. */
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";
    unsigned n = decimal_digits(v);
    char *p = out + n;
    while (v > UINT32_MAX) {
        unsigned r = (unsigned)(v % 100) * 2;
        v /= 100;
        *--p = pairs[r + 1];
        *--p = pairs[r];
    }
    uint32_t w = (uint32_t)v; /* 32-bit division is cheaper */
    while (w >= 100) {
        unsigned r = (w % 100) * 2;
        w /= 100;
        *--p = pairs[r + 1];
        *--p = pairs[r];
    }
    if (w >= 10) {
        *--p = pairs[w * 2 + 1];
        *--p = pairs[w * 2];
    } else {
        *--p = (char)('0' + w);
    }
    return n;
}

size_t json_fmt_i64(char *out, int64_t v)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + json_fmt_u64(out + 1, (uint64_t)0 - (uint64_t)v);
    }
    return json_fmt_u64(out, (uint64_t)v);
}

/* ==== Writing strings ==== */

size_t json_escape(char *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + n;
    char *o = out;
    *o++ = '"';
    while (p < end) {
        unsigned char c = *p;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *o++ = (char)c;
            p++;
            continue;
        }
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
            p++;
            continue;
        }
        if (c < 0x20) {
            *o++ = '\\';
            switch (c) {
            case '\n':
                *o++ = 'n';
                break;
            case '\r':
                *o++ = 'r';
                break;
            case '\t':
                *o++ = 't';
                break;
            default:
                *o++ = 'u';
                *o++ = '0';
                *o++ = '0';
                *o++ = hex[c >> 4];
                *o++ = hex[c & 15];
            }
            p++;
            continue;
        }
        size_t k = utf8_seq_len(p, end);
        if (k == 0) {
            memcpy(o, "\\ufffd", 6);
            o += 6;
            p++;
            continue;
        }
        memcpy(o, p, k);
        o += k;
        p += k;
    }
    *o++ = '"';
    return (size_t)(o - out);
}
