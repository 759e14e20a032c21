/*
 * utf8.c: well-formedness, repair and cutting of UTF-8 (see utf8.h).
 *
 * The well-formed sequences are those of the Unicode standard's table 3-7: after a lead byte,
 * every continuation byte must be in 80..BF, except the first after E0 (A0..BF), ED (80..9F),
 * F0 (90..BF) and F4 (80..8F). A maximal subpart is a lead byte followed by the continuation
 * bytes that still fit that table before the sequence breaks off; a byte that cannot start a
 * sequence at all (80..C1, F5..FF) is a subpart of its own.
 * Depends on: nothing. Used by: traffic, report, faults, proc, cli, check, run.
 */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

/* Length of the sequence at p (avail > 0 bytes there): a well-formed one (*ok), or the maximal
 * ill-formed subpart (!*ok), at least 1. */
static size_t utf8_seq(const unsigned char *p, size_t avail, bool *ok)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t need;
    *ok = true;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        *ok = false;
        return 1;
    }
    for (size_t k = 1; k <= need; k++) {
        if (k >= avail || p[k] < lo || p[k] > hi) {
            *ok = false;
            return k;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        /* ASCII eight bytes at a time: most of what eddy checks. */
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w & 0x8080808080808080ull)
                break;
            p += 8;
        }
        if (p == end)
            break;
        bool ok;
        p += utf8_seq(p, (size_t)(end - p), &ok);
        if (!ok)
            return false;
    }
    return true;
}

size_t utf8_repair(char *out, const char *s, size_t n, bool nul_too)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    char *o = out;
    while (p < end) {
        bool ok;
        size_t k = utf8_seq(p, (size_t)(end - p), &ok);
        if (ok && !(nul_too && *p == 0)) {
            memcpy(o, p, k);
            o += k;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
        }
        p += k;
    }
    return (size_t)(o - out);
}

size_t utf8_prefix(const char *s, size_t n, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t at = 0;
    while (at < n) {
        bool ok;
        size_t k = utf8_seq(p + at, n - at, &ok);
        if (!ok)
            k = 1; /* an ill-formed byte is cut anywhere */
        if (at + k > max)
            break;
        at += k;
    }
    return at;
}
