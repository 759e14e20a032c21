/*
 * report_page.c: escaping and tolerant readers for report.html (see report_page.h).
 *
 * The escaper decodes UTF-8 itself rather than trusting cJSON: a node can put any byte in a
 * string eddy stores (node names come from the command line, IDs from node output), and one
 * bad byte would make the whole page unparsable as XML. Overlong forms, surrogates and code
 * points past U+10FFFF are invalid, as RFC 3629 says.
 * Depends on: cJSON, json. Used by: report_html, report_plot, report_lamport, report_table.
 */
#include "report_page.h"
#include "eddy/json.h"
#include "eddy/util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ==== Escaping ==== */

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when the bytes there are not one.
 * Reads no further than a terminating NUL, since a continuation byte is never 0. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80)
            return 0;
        /* U+FFFE and U+FFFF are not XML characters. */
        if (c == 0xEF && s[1] == 0xBF && s[2] >= 0xBE)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

void page_text(FILE *f, const char *s, size_t max)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0;
    while (*p) {
        if (used >= max) {
            fputs("…", f);
            return;
        }
        size_t n = utf8_len(p);
        if (n == 0) {
            fputs("\xEF\xBF\xBD", f); /* U+FFFD, one per bad byte */
            p++;
            used++;
            continue;
        }
        if (n > 1) {
            fwrite(p, 1, n, f);
        } else {
            switch (*p) {
            case '&':
                fputs("&amp;", f);
                break;
            case '<':
                fputs("&lt;", f);
                break;
            case '>':
                fputs("&gt;", f);
                break;
            case '"':
                fputs("&quot;", f);
                break;
            case '\'':
                fputs("&#39;", f);
                break;
            default:
                if (*p >= 0x20 || *p == '\t' || *p == '\n')
                    fputc(*p, f);
            }
        }
        p += n;
        used += n;
    }
}

void page_literal(FILE *f, const char *p, size_t n, size_t max)
{
    struct json_val v;
    if (json_scan(p, n, true, &v, NULL) <= 0 || v.type != JSON_STRING)
        return;
    char *raw = malloc(v.len + 1), *shown = malloc(3 * v.len + 1);
    ssize_t k = raw && shown ? json_str_decode(&v, raw, v.len) : -1;
    if (k >= 0) {
        size_t at = 0;
        for (ssize_t i = 0; i < k; i++) {
            if (raw[i]) {
                shown[at++] = raw[i];
            } else {
                memcpy(shown + at, "\xE2\x90\x80", 3); /* U+2400 SYMBOL FOR NULL */
                at += 3;
            }
        }
        shown[at] = '\0';
        page_text(f, shown, max);
    }
    free(raw);
    free(shown);
}

void page_string(FILE *f, const cJSON *v, size_t max)
{
    if (cJSON_IsString(v))
        page_text(f, v->valuestring, max);
    else if (cJSON_IsRaw(v) && v->valuestring)
        page_literal(f, v->valuestring, strlen(v->valuestring), max);
}

void page_json(FILE *f, const cJSON *v, size_t max)
{
    if (!v)
        return;
    char *text = cJSON_PrintUnformatted(v);
    if (!text) {
        fputs("?", f);
        return;
    }
    page_text(f, text, max);
    cJSON_free(text);
}

/* ==== Reading the map ==== */

const cJSON *page_get(const cJSON *o, const char *key)
{
    if (!cJSON_IsObject(o))
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

double page_num(const cJSON *o, const char *key, double def)
{
    const cJSON *v = page_get(o, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return def;
    return v->valuedouble;
}

const char *page_str(const cJSON *o, const char *key)
{
    const cJSON *v = page_get(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int page_valid(const cJSON *checker)
{
    const cJSON *v = page_get(checker, "valid?");
    if (cJSON_IsTrue(v))
        return 1;
    if (cJSON_IsFalse(v))
        return 0;
    return -1;
}

void page_num_text(FILE *f, double v)
{
    if (!isfinite(v))
        fputs("–", f);
    else if (v == floor(v) && fabs(v) < 1e15)
        fprintf(f, "%.0f", v);
    else
        fprintf(f, "%.6g", v);
}

const char *page_palette(size_t n)
{
    /* Paul Tol's "bright" scheme plus two darker tones: distinct for colour-blind readers. */
    static const char *const colours[PAGE_PALETTE_LEN] = {
        "#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#555555", "#994f00",
    };
    return colours[n % PAGE_PALETTE_LEN];
}
