/*
 * canon.c: canonical encodings and Clojure's order (see canon.h).
 *
 * Scalars encode without allocation. Arrays and objects, which no sane ID scheme uses but which
 * Maelstrom accepts, encode their members into scratch buffers first (objects must be sorted),
 * so they allocate; the hot path of plain string IDs never reaches that code.
 * Depends on: json, buf, alloc. Used by: idset, check.
 */
#include "canon.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SCRATCH_MAX (64u << 20)

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

static int put(struct buf *out, const void *p, size_t n)
{
    return buf_append(out, p, n);
}

static int put_tag(struct buf *out, char tag)
{
    return put(out, &tag, 1);
}

static int put_varint(struct buf *out, uint64_t v)
{
    uint8_t tmp[10];
    return put(out, tmp, canon_put_varint(tmp, v));
}

/* ==== Encoding ==== */

static int encode_number(const struct json_val *v, struct buf *out)
{
    if (v->flags & JSON_F_INT) {
        const char *p = v->p;
        size_t n = v->len;
        if (n == 2 && p[0] == '-' && p[1] == '0') {
            p++;
            n--;
        }
        int rc = put_tag(out, 'i');
        return rc < 0 ? rc : put(out, p, n);
    }
    char small[64];
    char *text = v->len < sizeof(small) ? small : xmalloc(v->len + 1);
    memcpy(text, v->p, v->len);
    text[v->len] = '\0';
    double d = strtod(text, NULL); /* eddy never calls setlocale: '.' is the decimal point */
    if (text != small)
        free(text);
    if (d == 0)
        d = 0; /* -0.0 equals 0.0 under Clojure's = */
    int rc = put_tag(out, 'd');
    return rc < 0 ? rc : put(out, &d, sizeof(d));
}

static int encode_string(const struct json_val *v, struct buf *out)
{
    int rc = put_tag(out, 's');
    if (rc < 0)
        return rc;
    char *dst = buf_reserve(out, v->len);
    if (!dst)
        return -ENOBUFS;
    ssize_t n = json_str_decode(v, dst, v->len);
    ASSERT(n >= 0);
    buf_commit(out, (size_t)n);
    return 0;
}

static int encode_array(const struct json_val *v, struct buf *out)
{
    struct json_iter it;
    struct json_val e;
    uint64_t count = 0;
    json_iter_init(&it, v);
    while (json_iter_next_elem(&it, &e))
        count++;
    int rc = put_tag(out, 'a');
    if (rc == 0)
        rc = put_varint(out, count);
    struct buf tmp;
    buf_init(&tmp, SCRATCH_MAX);
    json_iter_init(&it, v);
    while (rc == 0 && json_iter_next_elem(&it, &e)) {
        buf_clear(&tmp);
        rc = canon_encode(&e, &tmp);
        if (rc == 0)
            rc = put_varint(out, buf_len(&tmp));
        if (rc == 0)
            rc = put(out, buf_peek(&tmp), buf_len(&tmp));
    }
    buf_fini(&tmp);
    return rc;
}

struct member {
    struct buf key; /* decoded key */
    struct buf val; /* canonical value */
    size_t order;   /* position in the object, for "last one wins" */
};

static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    size_t n = EDDY_MIN(buf_len(&x->key), buf_len(&y->key));
    int c = n ? memcmp(buf_peek(&x->key), buf_peek(&y->key), n) : 0;
    if (c)
        return c;
    if (buf_len(&x->key) != buf_len(&y->key))
        return buf_len(&x->key) < buf_len(&y->key) ? -1 : 1;
    return x->order < y->order ? -1 : 1;
}

/* True when member i is followed by a member with the same key (so i does not count). */
static bool same_key(const struct member *m, size_t count, size_t i)
{
    if (i + 1 >= count || buf_len(&m[i].key) != buf_len(&m[i + 1].key))
        return false;
    return buf_len(&m[i].key) == 0 ||
           memcmp(buf_peek(&m[i].key), buf_peek(&m[i + 1].key), buf_len(&m[i].key)) == 0;
}

static int encode_object(const struct json_val *v, struct buf *out)
{
    struct json_iter it;
    struct json_val k, e;
    size_t count = 0;
    json_iter_init(&it, v);
    while (json_iter_next(&it, &k, &e))
        count++;
    struct member *m = xcalloc(count ? count : 1, sizeof(*m));
    int rc = 0;
    size_t i = 0;
    json_iter_init(&it, v);
    while (json_iter_next(&it, &k, &e)) {
        buf_init(&m[i].key, SCRATCH_MAX);
        buf_init(&m[i].val, SCRATCH_MAX);
        m[i].order = i;
        char *dst = buf_reserve(&m[i].key, k.len);
        ASSERT(dst);
        buf_commit(&m[i].key, (size_t)json_str_decode(&k, dst, k.len));
        if (rc == 0)
            rc = canon_encode(&e, &m[i].val);
        i++;
    }
    qsort(m, count, sizeof(*m), member_cmp);
    /* Of equal keys only the last (now the rightmost of its run) counts. */
    size_t kept = 0;
    for (i = 0; i < count; i++)
        kept += !same_key(m, count, i);
    if (rc == 0)
        rc = put_tag(out, 'o');
    if (rc == 0)
        rc = put_varint(out, kept);
    for (i = 0; i < count && rc == 0; i++) {
        if (same_key(m, count, i))
            continue;
        rc = put_varint(out, buf_len(&m[i].key));
        if (rc == 0)
            rc = put(out, buf_peek(&m[i].key), buf_len(&m[i].key));
        if (rc == 0)
            rc = put_varint(out, buf_len(&m[i].val));
        if (rc == 0)
            rc = put(out, buf_peek(&m[i].val), buf_len(&m[i].val));
    }
    for (i = 0; i < count; i++) {
        buf_fini(&m[i].key);
        buf_fini(&m[i].val);
    }
    free(m);
    return rc;
}

int canon_encode(const struct json_val *v, struct buf *out)
{
    switch (v->type) {
    case JSON_NULL:
        return put_tag(out, 'n');
    case JSON_FALSE:
        return put_tag(out, 'f');
    case JSON_TRUE:
        return put_tag(out, 't');
    case JSON_NUMBER:
        return encode_number(v, out);
    case JSON_STRING:
        return encode_string(v, out);
    case JSON_ARRAY:
        return encode_array(v, out);
    case JSON_OBJECT:
        return encode_object(v, out);
    case JSON_NONE:
        break;
    }
    ASSERT(!"canon_encode of an unscanned value");
    return -EINVAL;
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
