/* The snapshot codec shared by snapshot.c (machine, events, format) and
 * snapshot_chip.c (queues, MEM, streams, MXM).  Internal; the API is in
 * tsp_engine_api.h. */
#ifndef TSP_SNAPSHOT_H
#define TSP_SNAPSHOT_H

#include "engine.h"
#include "mxm.h"

/* One pass over the state.  Saving: p is the output (NULL only measures), n
 * counts bytes.  Loading: reads from `in`; past the end or on a failed check
 * `bad` is set and every further read gives zeros, so loops stop early. */
typedef struct {
    int load, bad, nomem;
    uint8_t *p;
    const uint8_t *in;
    size_t n, cap;
    uint32_t count;            /* stream entries written so far (save) */
    const char *why;           /* header refusal, for the message */
} snap_io;

/* A number of `bytes` little-endian bytes: saving writes v and returns it,
 * loading returns what was read (so `x = snap_num(s, x, 4)` serves both ways). */
uint64_t snap_num(snap_io *s, uint64_t v, unsigned bytes);
void snap_raw(snap_io *s, void *data, size_t n);
/* Loading: can `count` items of at least `each` bytes still follow?  Guards allocations. */
int snap_room(snap_io *s, uint64_t count, size_t each);
void snap_info(snap_io *s, tsp_error_info *w);
void snap_writer(snap_io *s, tsp_writer *who);
int snap_queue_can_issue(const tsp_queue *q);
void snap_chip(snap_io *s, tsp_machine *m, uint32_t chip);
int snap_links_ok(const tsp_machine *m);

#endif /* TSP_SNAPSHOT_H */
