/*
 * idset.h: the exact set of acknowledged IDs, in about 50 bytes per ID.
 *
 * Every ID is stored whole, as its canonical encoding (canon.h), so the set can neither miss a
 * duplicate nor invent one: no hashing shortcut decides equality, a hash only chooses where to
 * look. Entries live in an append-only arena of large chunks (length, encoding, a 40-bit
 * reference the caller chooses, e.g. where the op is in the history); the table holds one 64-bit
 * slot per entry (40-bit arena offset + 24 hash bits that spare most memcmps) and grows by half
 * at three-quarters full, moving a few entries per insertion so that none waits for the rest.
 * Depends on: canon, json, alloc. Used by: check.
 */
#ifndef EDDY_SIM_IDSET_H
#define EDDY_SIM_IDSET_H

#include "eddy/json.h"

#include <stddef.h>
#include <stdint.h>

#define IDSET_REF_MAX ((UINT64_C(1) << 40) - 1)
#define IDSET_VALUE_MAX (1u << 20) /* longest canonical encoding, as the longest node line */

struct idset;

struct idset *idset_new(void);
void idset_free(struct idset *s);

/* Adds the value of an ok op. Returns 0 when it is new, 1 when an equal value is already there
 * (then *first_ref is the ref stored with it and *entry identifies it), or -E2BIG when its
 * encoding is longer than IDSET_VALUE_MAX. `ref` must be <= IDSET_REF_MAX. */
int idset_add(struct idset *s, const struct json_val *v, uint64_t ref, uint64_t *first_ref,
              uint64_t *entry);

/* The canonical encoding of the value last passed to idset_add (valid until the next call). */
const uint8_t *idset_last_encoding(const struct idset *s, size_t *len);

size_t idset_count(const struct idset *s);

/* Bytes the set uses now: arena bytes written plus the table. */
size_t idset_bytes(const struct idset *s);

#endif /* EDDY_SIM_IDSET_H */
