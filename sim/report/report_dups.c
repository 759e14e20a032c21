/*
 * report_dups.c: the duplicated IDs in the outputs (see report_dups.h).
 *
 * Each listed duplicate's ops are its entries' first ops (kept with each entry in the ID set's
 * spill) and the repeats the checker saw while running (sorted by entry, found by binary
 * search), so nothing is read back from history.jsonl and --no-history loses no detail.
 * Depends on: sim, check, idset, canon, store, cJSON. Used by: report.
 */
#include "report_dups.h"
#include "report.h"
#include "canon.h"
#include "check.h"
#include "idset.h"
#include "store.h"
#include "eddy/alloc.h"
#include "eddy/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_TEXT_BUF (64u << 20) /* an ID's JSON text: up to about 6 x IDSET_VALUE_MAX */

static void add_num(cJSON *o, const char *key, double v)
{
    cJSON_AddItemToObject(o, key, cJSON_CreateNumber(v));
}

static void add_str(cJSON *o, const char *key, const char *v)
{
    cJSON_AddItemToObject(o, key, cJSON_CreateString(v));
}

cJSON *report_id_json(const char *text, size_t len)
{
    if (len <= REPORT_ID_TEXT_MAX) {
        char *t = xstrndup(text, len);
        cJSON *r = cJSON_CreateRaw(t);
        free(t);
        return r;
    }
    size_t cut = REPORT_ID_TEXT_MAX;
    while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
        cut--; /* a whole character */
    char *t = xstrndup(text, cut);
    cJSON *o = cJSON_CreateObject();
    add_str(o, "id-prefix", t);
    add_num(o, "id-bytes", (double)len);
    free(t);
    return o;
}

static uint64_t file_max(void)
{
    const char *env = getenv(REPORT_DUPS_FILE_MAX_ENV);
    char *end;
    unsigned long long v = env ? strtoull(env, &end, 10) : 0;
    return env && *env && !*end && v > 0 ? v : REPORT_DUPS_FILE_MAX;
}

/* ==== Ops ==== */

static cJSON *op_json(const struct sim *s, const struct dup_op *d)
{
    cJSON *o = cJSON_CreateObject();
    char client[32];
    snprintf(client, sizeof(client), "c%u", d->client);
    if (s->cfg->history && d->ref < s->hist.offset) /* not past where the file stopped */
        add_num(o, "history-offset", (double)d->ref);
    add_num(o, "index", (double)d->index);
    add_num(o, "time", (double)d->time_ns);
    add_num(o, "process", (double)d->process);
    add_str(o, "node", d->node < s->node_count ? s->nodes[d->node].name : "?");
    add_str(o, "client", client);
    return o;
}

/* The first of the repeats of entry e (dup_ops is sorted by entry, then time). */
static size_t repeats_from(const struct check *c, uint64_t e)
{
    size_t lo = 0, hi = c->dup_ops_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->dup_ops[mid].entry < e)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Every kept op of one duplicated ID into ops and to the diagnosis: each entry's first op (kept
 * with the entry), then the repeats of that entry seen while running. */
static void add_ops(struct sim *s, cJSON *ops, const struct idset_entry_count *entries,
                    size_t nentries, struct report_diag *rd)
{
    struct check *c = s->check;
    for (size_t k = 0; k < nentries; k++) {
        struct idset_op f;
        if (idset_entry(c->ids, entries[k].entry, NULL, &f) == 0) {
            struct dup_op d = {.entry = entries[k].entry,
                               .ref = f.ref,
                               .index = f.index,
                               .process = f.process,
                               .time_ns = f.time_ns,
                               .node = f.node,
                               .client = f.client,
                               .incarnation = f.incarnation};
            cJSON_AddItemToArray(ops, op_json(s, &d));
            report_diag_op(rd, &d);
        } else {
            cJSON *o = cJSON_CreateObject();
            add_str(o, "note", "could not be read back from the checker's spill file");
            cJSON_AddItemToArray(ops, o);
        }
        for (size_t i = repeats_from(c, entries[k].entry);
             i < c->dup_ops_len && c->dup_ops[i].entry == entries[k].entry; i++) {
            cJSON_AddItemToArray(ops, op_json(s, &c->dup_ops[i]));
            report_diag_op(rd, &c->dup_ops[i]);
        }
    }
}

/* ==== Maelstrom's `duplicated` map ==== */

static void add_top(cJSON *w, struct sim *s, struct buf *text)
{
    struct check *c = s->check;
    /* Written as raw JSON, so that each key is exact: a cJSON key is a C string, which a NUL in
     * an ID would cut, and the canonical bytes of a lone surrogate are no UTF-8 (canon_to_json
     * writes them back as the escape they came from). report_table.c reads it back. */
    struct buf map, enc, key;
    buf_init(&map, SIZE_MAX);
    buf_init(&enc, IDSET_VALUE_MAX + 16);
    buf_init(&key, IDSET_VALUE_MAX + 16);
    buf_append(&map, "{", 1);
    for (size_t i = 0; i < c->top_len; i++) {
        /* JSON keys are strings: a string ID is its own key, any other ID its JSON text; either
         * at most REPORT_ID_TEXT_MAX bytes of it, cut between characters. */
        buf_clear(&enc);
        buf_clear(text);
        buf_clear(&key);
        bool ok = idset_entry(c->ids, c->top[i].first, &enc, NULL) == 0 && buf_len(&enc) > 0;
        const uint8_t *e = (const uint8_t *)buf_peek(&enc);
        if (ok && e[0] == 's') {
            size_t n = EDDY_MIN(buf_len(&enc), (size_t)REPORT_ID_TEXT_MAX + 1);
            while (n < buf_len(&enc) && n > 1 && (e[n] & 0xC0) == 0x80)
                n--;
            ok = canon_to_json(e, n, &key) == 0;
        } else if (ok && canon_to_json(e, buf_len(&enc), text) == 0) {
            size_t n = EDDY_MIN(buf_len(text), (size_t)REPORT_ID_TEXT_MAX);
            const char *t = buf_peek(text);
            while (n < buf_len(text) && n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80)
                n--;
            char *esc = xmalloc(json_escaped_max(n));
            buf_append(&key, esc, json_escape(esc, t, n));
            free(esc);
        } else {
            ok = false;
        }
        if (!ok) {
            buf_clear(&key);
            buf_append(&key, "\"(could not be read back)\"", 26);
        }
        if (i)
            buf_append(&map, ",", 1);
        buf_append(&map, buf_peek(&key), buf_len(&key));
        buf_printf(&map, ":%llu", (unsigned long long)c->top[i].count);
    }
    buf_append(&map, "}", 2); /* with the NUL */
    cJSON_AddItemToObject(w, "duplicated", cJSON_CreateRaw(buf_peek(&map)));
    buf_fini(&key);
    buf_fini(&enc);
    buf_fini(&map);
}

/* ==== The list ==== */

void report_dups_add(cJSON *w, struct sim *s, struct report_diag *rd)
{
    struct check *c = s->check;
    struct buf text;
    buf_init(&text, ID_TEXT_BUF);
    add_top(w, s, &text);
    cJSON *list = cJSON_CreateArray();
    cJSON_AddItemToObject(w, "duplicates", list);
    if (!c->dups_len) {
        buf_fini(&text);
        return;
    }
    FILE *all = fopen(store_path(s, "duplicates.jsonl"), "w");
    if (!all)
        fprintf(stderr,
                "eddy: cannot write duplicates.jsonl: %s (results.json keeps the first %d)\n",
                strerror(errno), REPORT_DUPS_IN_RESULTS);
    uint64_t max = file_max(), written = 0, file_ids = 0;
    bool file_full = false;
    int write_err = 0;
    struct idset_entry_count *entries = NULL;
    size_t entries_cap = 0;
    for (size_t m = 0; m < c->dups_len; m++) {
        const struct dup_id *id = &c->dups[m];
        if (entries_cap < id->nentries) {
            entries_cap = id->nentries;
            entries = xrealloc(entries, entries_cap * sizeof(*entries));
        }
        size_t nentries = id->nentries;
        if (check_dup_entries(c, id, entries, nentries) < 0) {
            entries[0] = (struct idset_entry_count){.entry = id->first, .count = id->count};
            nentries = 1;
        }
        buf_clear(&text);
        if (check_entry_text(c, id->first, &text) < 0) {
            buf_clear(&text);
            buf_printf(&text, "null");
        }
        cJSON *d = cJSON_CreateObject();
        char *full = xstrndup(buf_peek(&text), buf_len(&text));
        cJSON_AddItemToObject(d, "id", cJSON_CreateRaw(full));
        add_num(d, "count", (double)id->count);
        cJSON *ops = cJSON_CreateArray();
        cJSON_AddItemToObject(d, "ops", ops);
        add_ops(s, ops, entries, nentries, rd);
        report_diag_id(rd, full);
        if (all && !write_err && !file_full) {
            report_repair_tree(d);
            char *line = cJSON_PrintUnformatted(d);
            size_t len = strlen(line) + 1;
            if (written + len <= max) {
                if (fprintf(all, "%s\n", line) < 0)
                    write_err = errno;
                written += len;
                file_ids++;
            } else {
                file_full = true; /* later (shorter) lines would break the order */
            }
            cJSON_free(line);
        }
        free(full);
        if (m < REPORT_DUPS_IN_RESULTS) {
            cJSON_ReplaceItemInObject(d, "id", report_id_json(buf_peek(&text), buf_len(&text)));
            cJSON_AddItemToArray(list, d);
        } else {
            cJSON_Delete(d);
        }
    }
    free(entries);
    buf_fini(&text);
    if (c->dup_ops_dropped)
        add_num(w, "duplicate-ops-not-kept", (double)c->dup_ops_dropped);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddItemToObject(w, "duplicates-file", f);
    add_num(f, "ids", (double)file_ids);
    add_num(f, "bytes", (double)written);
    if (file_ids < c->dup_ids) {
        add_num(f, "ids-not-written", (double)(c->dup_ids - file_ids));
        add_str(f, "why",
                c->dups_len < c->dup_ids
                    ? "the checker keeps the first duplicated IDs in detail, counts the rest"
                    : "duplicates.jsonl stopped at its size limit");
    }
    /* fclose() alone can succeed after an earlier buffered write failed: the first error counts. */
    if (all && fclose(all) != 0 && !write_err)
        write_err = errno;
    if (write_err)
        fprintf(stderr, "eddy: writing duplicates.jsonl failed: %s\n", strerror(write_err));
}
