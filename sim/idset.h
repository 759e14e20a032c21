/*
 * idset.h: the set of acknowledged IDs, exact, in a bounded amount of memory whatever the IDs.
 *
 * Memory holds a 16-byte slot per ID: a 64-bit fingerprint (a keyed hash of its canonical
 * encoding, canon.h) and where the ID's bytes are: an entry in a spill file in the run
 * directory (spill.h), which also keeps the op that first returned it. Equal fingerprints are
 * always confirmed by comparing the full encodings read back, so no verdict rests on a hash.
 * The slots are split into 256 shards by the fingerprint's top byte; each grows by half when
 * three-quarters full, while the memory budget allows. Past the budget, a full shard is written
 * to disk as a run sorted by fingerprint and starts again empty; idset_finish() then merges each
 * shard's runs with what is in memory, so an ID returned again after its first sighting went to
 * disk is still found, and counted, exactly.
 * Depends on: canon, spill, json, buf, alloc. Used by: check.
 */
#ifndef EDDY_SIM_IDSET_H
#define EDDY_SIM_IDSET_H

#include "eddy/buf.h"
#include "eddy/json.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDSET_VALUE_MAX                                                                            \
    (4u << 20)                            /* longest canonical encoding (a 1 MiB line's            \
                                           * value encodes to about 3 MiB at most) */
#define IDSET_MEMORY_MIN (2ull << 20)     /* smallest budget */
#define IDSET_MEMORY_DEFAULT (1ull << 30) /* the default budget */
#define IDSET_RUNS_MAX 32                 /* runs per shard before they are merged into one */

struct idset_opts {
    const char *dir;           /* where the spill files go; NULL: $TMPDIR or /tmp */
    size_t memory_max;         /* the budget in bytes; 0: IDSET_MEMORY_DEFAULT */
    unsigned fingerprint_bits; /* 0: 64. Fewer (tests only) make different IDs share a
                                * fingerprint, to exercise the comparisons that settle it. */
    size_t fingerprint_prefix; /* 0: the whole encoding. Else (tests only) the fingerprint
                                * covers its first bytes, so that IDs differing only further
                                * on share one. */
};

/* The op that returned an ID, as kept with an entry. */
struct idset_op {
    uint64_t ref;   /* history offset or index */
    uint64_t index; /* history index */
    uint64_t process;
    int64_t time_ns;
    uint32_t node;
    uint32_t client;
    uint32_t incarnation; /* of the node, 0 for its first process */
};

struct idset;

struct idset *idset_new(const struct idset_opts *o);
void idset_free(struct idset *s);

/* Adds the value of an ok op. Returns 0 when the set holds no equal value in memory (a new
 * entry is made, which keeps op; *entry is its id), 1 when it does (*entry is that entry's id
 * and its count goes up), -E2BIG when its encoding is longer than IDSET_VALUE_MAX, or the
 * negative errno of a spill write error (a full disk): from then on every add fails so, and
 * idset_error() says why. An ID whose entry went to disk may get a second entry: idset_finish()
 * brings them together. */
int idset_add(struct idset *s, const struct json_val *v, const struct idset_op *op,
              uint64_t *entry);

/* The canonical encoding of the value last passed to idset_add (valid until the next call). */
const uint8_t *idset_last_encoding(const struct idset *s, size_t *len);

/* An entry's ID (its canonical encoding, appended to enc) and the op kept with it. 0, or a
 * negative errno (-ENOBUFS when enc cannot hold it). Either may be NULL. */
int idset_entry(struct idset *s, uint64_t entry, struct buf *enc, struct idset_op *op);

struct idset_entry_count {
    uint64_t entry;
    uint64_t count; /* ok ops counted on this entry */
};

/* One ID returned more than once. */
struct idset_dup {
    uint64_t count;                          /* ok ops that returned it, in all */
    size_t nentries;                         /* its entries (more than one if it was spilled) */
    const struct idset_entry_count *entries; /* by increasing id: the first is the first op */
};

typedef void idset_dup_cb(void *ctx, const struct idset_dup *d);

/* Calls cb for every ID returned more than once, in no particular order, merging each shard's
 * runs with the shard in memory (or, if memory_only, looking at the shards in memory alone:
 * quick, but blind to repeats of IDs that went to disk). Gives up with -ECANCELED as soon as
 * *stop is set (stop may be NULL), and with a negative errno if a spill file cannot be read.
 * Call once, after the last add; idset_entry() still works afterwards. */
int idset_finish(struct idset *s, idset_dup_cb *cb, void *ctx, const atomic_bool *stop,
                 bool memory_only);

size_t idset_count(const struct idset *s);         /* entries made */
size_t idset_bytes(const struct idset *s);         /* memory held now, within the budget */
size_t idset_bytes_max(const struct idset *s);     /* the most held at once */
size_t idset_table_bytes(const struct idset *s);   /* of idset_bytes, the slots */
size_t idset_scratch_bytes(const struct idset *s); /* outside the budget: encoding scratch,
                                                    * bounded by the longest ID */
uint64_t idset_disk_bytes(const struct idset *s);  /* written to the spill files */
uint64_t idset_runs(const struct idset *s);        /* runs written to disk */
int idset_error(const struct idset *s);            /* first spill error (negative errno), or 0 */

#endif /* EDDY_SIM_IDSET_H */
