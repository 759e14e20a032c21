/*
 * fuzz_node_output.c: the simulator's judgement of what a node writes on stdout.
 *
 * Every input is one line as a node might write it. validate_line must accept it or refuse it
 * with a reason, and agree with msg_parse and Maelstrom's reader; validate_reply must judge it
 * for both workloads exactly as an independent reading of the closed schema does. The ID of a
 * well-formed generate_ok then takes the unique-ids checker's path: canon_encode (stable, and
 * equal for a string re-escaped differently), canon_compare against itself and against the
 * previous ID (reflexive and antisymmetric), and an idset, whose every answer (new, or a
 * duplicate of which first ref) must match a plain hash set of the encodings kept alongside it.
 * Both sets are made once per process and replaced every IDSET_RENEW inputs to bound memory, so
 * the idset grows (and migrates its table) through 100,000 entries many times over.
 * Depends on: validate, canon, idset, msg, json, buf, fuzzkit.h.
 */
#include "fuzzkit.h"
#include "canon.h"
#include "history.h"
#include "idset.h"
#include "validate.h"
#include "eddy/buf.h"
#include "eddy/json.h"
#include "eddy/msg.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define IDSET_RENEW 100000u
#define ENC_MAX (IDSET_VALUE_MAX + 16)

static struct idset *ids;
static uint64_t inputs;
static struct buf prev; /* the previous generate_ok ID's encoding */

/* ==== The reference set: encodings in a plain open-addressing table ==== */

struct ref_entry {
    uint8_t *enc; /* owned copy of the encoding; NULL = empty slot */
    size_t len;
    uint64_t ref; /* the ref it was first added with */
};

static struct ref_entry *ref_slots;
static size_t ref_cap, ref_count;

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

static void ref_clear(void)
{
    for (size_t i = 0; i < ref_cap; i++)
        free(ref_slots[i].enc);
    free(ref_slots);
    ref_slots = NULL;
    ref_cap = ref_count = 0;
}

static struct ref_entry *ref_find(struct ref_entry *slots, size_t cap, const uint8_t *enc,
                                  size_t len)
{
    size_t i = fnv1a(enc, len) & (cap - 1);
    while (slots[i].enc && !(slots[i].len == len && memcmp(slots[i].enc, enc, len) == 0))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* Adds an encoding: false when new, true (with *first) when already there. */
static bool ref_add(const uint8_t *enc, size_t len, uint64_t ref, uint64_t *first)
{
    if (2 * (ref_count + 1) > ref_cap) {
        size_t cap = ref_cap ? 2 * ref_cap : 1024;
        struct ref_entry *slots = calloc(cap, sizeof(*slots));
        FUZZ_CHECK(slots, "out of memory");
        for (size_t i = 0; i < ref_cap; i++)
            if (ref_slots[i].enc)
                *ref_find(slots, cap, ref_slots[i].enc, ref_slots[i].len) = ref_slots[i];
        free(ref_slots);
        ref_slots = slots;
        ref_cap = cap;
    }
    struct ref_entry *e = ref_find(ref_slots, ref_cap, enc, len);
    if (e->enc) {
        *first = e->ref;
        return true;
    }
    e->enc = malloc(len ? len : 1);
    FUZZ_CHECK(e->enc, "out of memory");
    memcpy(e->enc, enc, len);
    e->len = len;
    e->ref = ref;
    ref_count++;
    return false;
}

/* ==== Numbers ==== */

/* msg_get_i64 against a slow reading of the same text. */
static void check_i64(const struct msg *m, enum msg_key k)
{
    const struct json_val *v = &m->f[k];
    int64_t got = 0;
    int rc = msg_get_i64(m, k, &got);
    if (v->type == JSON_NONE) {
        FUZZ_CHECK(rc == -ENOENT, "absent %s gave %d", msg_key_name(k), rc);
        return;
    }
    if (v->type != JSON_NUMBER || !(v->flags & JSON_F_INT)) {
        FUZZ_CHECK(rc == -EINVAL, "%s %.*s gave %d", msg_key_name(k), (int)v->len, v->p, rc);
        return;
    }
    /* Exact decimal arithmetic on the text: does it fit, and what is it? */
    bool neg = v->p[0] == '-';
    uint64_t mag = 0;
    bool over = false;
    for (size_t i = neg; i < v->len; i++) {
        unsigned d = (unsigned)(v->p[i] - '0');
        FUZZ_CHECK(d <= 9, "integer literal %.*s", (int)v->len, v->p);
        if (mag > (UINT64_MAX - d) / 10)
            over = true;
        else
            mag = mag * 10 + d;
    }
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (over || mag > limit) {
        FUZZ_CHECK(rc == -ERANGE, "%.*s gave %d", (int)v->len, v->p, rc);
        return;
    }
    int64_t want = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    FUZZ_CHECK(rc == 0 && got == want, "%.*s read as %lld (%d)", (int)v->len, v->p, (long long)got,
               rc);
    char text[24];
    size_t n = json_fmt_i64(text, got);
    bool minus_zero = neg && mag == 0;
    FUZZ_CHECK(minus_zero || (n == v->len && memcmp(text, v->p, n) == 0), "%.*s printed as %.*s",
               (int)v->len, v->p, (int)n, text);
}

/* ==== Reply schema ==== */

static bool key_eq(const char *name, ssize_t n, const char *want)
{
    return n >= 0 && (size_t)n == strlen(want) && memcmp(name, want, (size_t)n) == 0;
}

/* An independent reading of the closed reply schema of validate.h. */
/* Maelstrom's reader, read independently of validate.c: the closed envelope of net.clj's Message
 * schema with string src and dest and an optional integer id; a body that is an object, or null
 * or absent (read as {}), with or without a type. Arrays are refused (eddy's choice). */
static bool reader_accepts(const struct msg *m)
{
    bool body =
        m->body.type == JSON_NONE || m->body.type == JSON_NULL || m->body.type == JSON_OBJECT;
    bool id = m->env_id.type == JSON_NONE ||
              (m->env_id.type == JSON_NUMBER && (m->env_id.flags & JSON_F_INT));
    return m->src.type == JSON_STRING && m->dest.type == JSON_STRING && body && id &&
           m->env_extra.type == JSON_NONE;
}

static bool reply_ok(const struct msg *m, enum op_f f)
{
    const char *want = f == F_ECHO ? "echo_ok" : "generate_ok";
    const char *field = f == F_ECHO ? "echo" : "id";
    const struct json_val *type = &m->f[MSG_TYPE];
    char text[16];
    ssize_t n = json_str_decode(type, text, sizeof(text));
    if (!key_eq(text, n, want))
        return false;
    bool have_field = false;
    struct json_iter it;
    struct json_val k, v;
    json_iter_init(&it, &m->body);
    while (json_iter_next(&it, &k, &v)) {
        char name[16];
        n = json_str_decode(&k, name, sizeof(name));
        if (key_eq(name, n, field))
            have_field = true;
        else if (!key_eq(name, n, "type") && !key_eq(name, n, "in_reply_to") &&
                 !key_eq(name, n, "msg_id"))
            return false;
    }
    const struct json_val *id = &m->f[MSG_MSG_ID];
    if (id->type != JSON_NONE && (id->type != JSON_NUMBER || !(id->flags & JSON_F_INT)))
        return false;
    return have_field;
}

/* ==== IDs ==== */

/* Clojure's compare is antisymmetric, and throws both ways or neither. */
static void check_order(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int x = canon_compare(a, an, b, bn), y = canon_compare(b, bn, a, an);
    FUZZ_CHECK(x == CANON_INCOMPARABLE || (x >= -1 && x <= 1), "compare gave %d", x);
    if (x == CANON_INCOMPARABLE) {
        FUZZ_CHECK(y == CANON_INCOMPARABLE, "incomparable one way only (%d)", y);
        return;
    }
    FUZZ_CHECK(y == -x, "compare is not antisymmetric: %d and %d", x, y);
    /* For scalars of one type other than float, equal order means equal encoding. */
    bool exact = a[0] == b[0] && a[0] && strchr("sintf", a[0]) != NULL;
    if (exact)
        FUZZ_CHECK((x == 0) == (an == bn && memcmp(a, b, an) == 0),
                   "%s values compare %d with %s encodings", canon_type_name(a, an), x,
                   x == 0 ? "different" : "equal");
}

/* True when decoded text holds a lone surrogate (WTF-8 ED A0..BF), which json_escape cannot
 * write back. */
static bool has_lone_surrogate(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if ((unsigned char)s[i] == 0xED && (unsigned char)s[i + 1] >= 0xA0)
            return true;
    return false;
}

/* A string ID spelt another way (decoded, then escaped by json_escape) must encode the same. */
static void check_respelt(const struct json_val *v, const struct buf *enc)
{
    char *dec = malloc(v->len);
    char *esc = malloc(json_escaped_max(v->len));
    FUZZ_CHECK(dec && esc, "out of memory");
    ssize_t n = json_str_decode(v, dec, v->len);
    FUZZ_CHECK(n >= 0 && (size_t)n <= v->len - 2, "decoding %.*s gave %zd", (int)v->len, v->p, n);
    FUZZ_CHECK(json_str_eq(v, dec, (size_t)n), "%.*s differs from its decoding", (int)v->len, v->p);
    size_t en = json_escape(esc, dec, (size_t)n);
    struct json_val w;
    struct json_err e = {0};
    FUZZ_CHECK(json_scan(esc, en, true, &w, &e) == (ssize_t)en && w.type == JSON_STRING,
               "json_escape wrote invalid JSON: %.*s", FUZZ_CLIP(en), esc);
    if (!has_lone_surrogate(dec, (size_t)n)) {
        struct buf again;
        buf_init(&again, ENC_MAX);
        FUZZ_CHECK(canon_encode(&w, &again) == 0, "re-encoding failed");
        FUZZ_CHECK(buf_len(&again) == buf_len(enc) &&
                       memcmp(buf_peek(&again), buf_peek(enc), buf_len(enc)) == 0,
                   "%.*s and %.*s encode differently", (int)v->len, v->p, FUZZ_CLIP(en), esc);
        uint64_t entry;
        int rc = idset_add(ids, &w, &(struct idset_op){0}, &entry);
        FUZZ_CHECK(rc == 1, "%.*s not found under its spelling %.*s (%d)", (int)v->len, v->p,
                   FUZZ_CLIP(en), esc, rc);
        buf_fini(&again);
    }
    free(dec);
    free(esc);
}

static void check_id(const struct json_val *v)
{
    struct buf enc, enc2;
    buf_init(&enc, ENC_MAX);
    buf_init(&enc2, ENC_MAX);
    int rc = canon_encode(v, &enc);
    FUZZ_CHECK(rc == 0 || rc == -ENOBUFS, "canon_encode gave %d", rc);
    if (rc < 0)
        goto out;
    FUZZ_CHECK(canon_encode(v, &enc2) == 0 && buf_len(&enc) == buf_len(&enc2) &&
                   memcmp(buf_peek(&enc), buf_peek(&enc2), buf_len(&enc)) == 0,
               "canon_encode is not stable for %.*s", FUZZ_CLIP(v->len), v->p);
    const uint8_t *a = (const uint8_t *)buf_peek(&enc);
    size_t an = buf_len(&enc);
    FUZZ_CHECK(strcmp(canon_type_name(a, an), "unknown") != 0, "bad tag %c", a[0]);
    int self = canon_compare(a, an, a, an);
    FUZZ_CHECK(self == 0 || self == CANON_INCOMPARABLE, "%.*s compares %d with itself",
               FUZZ_CLIP(v->len), v->p, self);
    if (buf_len(&prev) > 0)
        check_order(a, an, (const uint8_t *)buf_peek(&prev), buf_len(&prev));

    if (!ids || inputs % IDSET_RENEW == 0) {
        idset_free(ids);
        /* 16-bit fingerprints: IDs share them often, so the byte comparisons run too. */
        ids = idset_new(&(struct idset_opts){.fingerprint_bits = 16});
        ref_clear();
    }
    uint64_t ref = inputs, first = 0, entry = 0, entry2 = 0;
    size_t count = idset_count(ids);
    rc = idset_add(ids, v, &(struct idset_op){.ref = ref}, &entry);
    struct idset_op kept = {0};
    if (rc >= 0)
        FUZZ_CHECK(idset_entry(ids, entry, NULL, &kept) == 0, "entry not readable");
    first = kept.ref;
    FUZZ_CHECK(rc == 0 || rc == 1 || rc == -E2BIG, "idset_add gave %d", rc);
    if (rc >= 0) {
        uint64_t want_first = 0;
        bool dup = ref_add(a, an, ref, &want_first);
        FUZZ_CHECK(dup == (rc == 1), "idset says %s, the reference set %s: %.*s",
                   rc ? "duplicate" : "new", dup ? "duplicate" : "new", FUZZ_CLIP(v->len), v->p);
        FUZZ_CHECK(!dup || first == want_first, "first ref %llu, expected %llu",
                   (unsigned long long)first, (unsigned long long)want_first);
        FUZZ_CHECK(idset_count(ids) == count + (rc == 0) && idset_count(ids) == ref_count,
                   "idset count %zu, reference %zu", idset_count(ids), ref_count);
        size_t ln;
        const uint8_t *last = idset_last_encoding(ids, &ln);
        FUZZ_CHECK(ln == an && memcmp(last, a, an) == 0, "idset stored another encoding");
        FUZZ_CHECK(idset_add(ids, v, &(struct idset_op){0}, &entry2) == 1,
                   "%.*s added twice, not found", FUZZ_CLIP(v->len), v->p);
        FUZZ_CHECK(entry2 == entry && (rc == 1 || first == ref), "found another entry");
        FUZZ_CHECK(idset_bytes(ids) > 0, "idset size");
        if (v->type == JSON_STRING)
            check_respelt(v, &enc);
    }
    buf_clear(&prev);
    FUZZ_CHECK(buf_append(&prev, a, an) == 0, "prev");
out:
    buf_fini(&enc);
    buf_fini(&enc2);
}

/* ==== Entry ==== */

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    if (prev.max == 0)
        buf_init(&prev, ENC_MAX);
    inputs++;
    struct msg m;
    bool warning = true;
    char why[256] = "";
    bool ok = validate_line(line, size, &m, &warning, why, sizeof(why));

    struct msg m2;
    struct json_err e = {0};
    int rc = msg_parse(line, size, &m2, &e);
    bool want = rc == 0 && reader_accepts(&m2);
    FUZZ_CHECK(ok == want, "validate_line says %d, msg_parse %d: %s", ok, rc, why);
    if (!ok) {
        FUZZ_CHECK(why[0] && !warning, "refused without a reason");
        return 0;
    }
    FUZZ_CHECK(warning == (m.trailing_at != 0), "warning %d, trailing at %zu", warning,
               m.trailing_at);
    FUZZ_CHECK(!warning || why[0], "warning without a reason");
    check_i64(&m, MSG_IN_REPLY_TO);
    check_i64(&m, MSG_MSG_ID);
    check_i64(&m, MSG_CODE);

    for (int f = F_ECHO; f <= F_GENERATE; f++) {
        why[0] = '\0';
        const char *r = validate_reply(&m, (enum op_f)f, why, sizeof(why));
        FUZZ_CHECK(r == NULL || (r == why && why[0]), "validate_reply's reason");
        FUZZ_CHECK((r == NULL) == reply_ok(&m, (enum op_f)f), "validate_reply(%s) says %s",
                   op_f_name((enum op_f)f), r ? r : "ok");
        if (f == F_GENERATE && r == NULL)
            check_id(&m.f[MSG_ID]);
    }
    return 0;
}
