/*
 * idprops.h: properties of the IDs a run acknowledged, for experiments with ID schemes.
 *
 * Within each incarnation of a node: do its IDs increase in Maelstrom's order (Clojure's
 * compare, canon.h) as real time goes on, and if not, how often and how far back they fall.
 * Across all nodes: how far ID order strays from real-time order. Plus the IDs' JSON types and
 * their lengths in bytes. "Real-time order" is Jepsen's: op a precedes op b when a completed
 * before b was invoked; concurrent ops are never compared. An op b "decreases" when its ID is
 * below the largest ID of the ops that completed before b was invoked (its incarnation's, for
 * the first measure; anyone's, for the second), and its stray is how long before b's invoke the
 * first op with a larger ID completed.
 *
 * Fed op by op on the checker thread, in completion order, at a cost of one or two comparisons
 * per op in the common case. The running maxima are kept per millisecond bucket, in bounded
 * lines (IDPROPS_NODE_LINE_MAX, IDPROPS_LINE_MAX entries): when a line is full, every other
 * entry is dropped, which can only make decreases and strays smaller, never invent them, and
 * the output says whether it happened.
 * Depends on: canon, alloc, cJSON. Used by: check, report.
 */
#ifndef EDDY_SIM_IDPROPS_H
#define EDDY_SIM_IDPROPS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define IDPROPS_BUCKET_NS 1000000      /* time resolution of the running maxima: 1 ms */
#define IDPROPS_LINE_MAX 65536         /* entries of the all-nodes line */
#define IDPROPS_NODE_LINE_MAX 1024     /* entries of each incarnation's line */
#define IDPROPS_INCARNATIONS_MAX 10000 /* incarnations listed one by one */
#define IDPROPS_LEN_BINS 1024          /* exact length bins; longer IDs share the last */

struct idprops;

/* Properties over node_count nodes. Free with idprops_free (NULL is a no-op). */
struct idprops *idprops_new(uint32_t node_count);
void idprops_free(struct idprops *p);

/* One acknowledged ID: its canonical encoding (enc, n), its JSON text length, which node and
 * incarnation returned it, and when the op was invoked and completed (ns since the start). Ops
 * come in completion order. */
void idprops_add(struct idprops *p, const uint8_t *enc, size_t n, size_t text_len, uint32_t node,
                 uint32_t incarnation, int64_t invoke_ns, int64_t complete_ns);

/* results.json's "id-properties". node_names has the run's node_count names. Caller owns it. */
cJSON *idprops_json(const struct idprops *p, const char *const *node_names);

#endif /* EDDY_SIM_IDPROPS_H */
