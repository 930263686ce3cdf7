/* Values in flight on the stream registers, stored per diagonal.
 *
 * Every cycle a stream register's value moves one position in its direction, so
 * a value written leaving position p at cycle t is seen at position q at cycle
 * t + |q - p| (q > p eastward, q < p westward).  All points of that path share
 * one number: k = t - p eastward, k = t + p westward.  Instead of shifting 52
 * registers every cycle, the engine keeps the writes of each diagonal k; a read
 * at (q, t) looks at diagonal k(q, t) and takes the nearest write upstream of q
 * (that write replaced whatever was flowing before it).  Cost is per write and
 * per read, never per idle cycle.
 *
 * Writes are stored when issued, at the cycle they leave their position
 * (issue + d_func, at most TSP_STREAMS_AHEAD cycles ahead), rather than through
 * a pending-write event: no read can see one early, because a read at (q, t)
 * only finds writes upstream of q on its diagonal, and those left at a cycle
 * before t.  At any cycle T the diagonals alive per stream are then eastward
 * k = T - 51 .. T + AHEAD and westward k = T .. T + 51 + AHEAD, so a ring of
 * POSITIONS + AHEAD slots per stream holds them all (AHEAD: the largest
 * d_func, so the slots of a stream are reused as soon as possible and stay in
 * cache); a slot still tagged with
 * an older k is dead and is recycled by the first write of its new diagonal.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

typedef struct {
    uint8_t pos;
    tsp_writer who;
    uint8_t data[TSP_VECTOR_BYTES];
} entry;

typedef struct {
    int64_t k;                 /* the diagonal held in this slot (INT64_MIN: none yet) */
    uint32_t n, cap;
    entry *e;
} diag;

#define RING (TSP_POSITIONS + TSP_STREAMS_AHEAD)
/* Hash and snapshot order stay those of the former 84-slot ring (slot k mod
 * ORDER_RING): the diagonals with values in flight span fewer than RING <=
 * ORDER_RING numbers, so that order is the same whatever RING is. */
#define ORDER_RING (TSP_POSITIONS + TSP_STREAMS_AHEAD_MAX)

/* The slots of one stream with writes, in ascending k mod ORDER_RING; returns how many. */
static unsigned ordered(const diag *d, unsigned *out)
{
    unsigned key[RING], n = 0, slot, j;
    for (slot = 0; slot < RING; slot++) {
        int64_t r;
        unsigned kk;
        if (d[slot].k == INT64_MIN || d[slot].n == 0)
            continue;
        r = d[slot].k % ORDER_RING;
        kk = (unsigned)(r < 0 ? r + ORDER_RING : r);
        for (j = n; j > 0 && key[j - 1] > kk; j--) {
            key[j] = key[j - 1];
            out[j] = out[j - 1];
        }
        key[j] = kk;
        out[j] = slot;
        n++;
    }
    return n;
}

struct tsp_streams {
    diag d[TSP_SIDS][RING];
};

tsp_streams *tsp_streams_new(void)
{
    tsp_streams *s = calloc(1, sizeof *s);
    unsigned i, j;
    if (!s)
        return NULL;
    for (i = 0; i < TSP_SIDS; i++)
        for (j = 0; j < RING; j++)
            s->d[i][j].k = INT64_MIN;
    return s;
}

void tsp_streams_free(tsp_streams *s)
{
    unsigned i, j;
    if (!s)
        return;
    for (i = 0; i < TSP_SIDS; i++)
        for (j = 0; j < RING; j++)
            free(s->d[i][j].e);
    free(s);
}

static int64_t diagonal(unsigned sid, unsigned pos, uint64_t t)
{
    return TSP_SID_WEST(sid) ? (int64_t)t + (int64_t)pos : (int64_t)t - (int64_t)pos;
}

static unsigned ring(int64_t k)
{
    int64_t r = k % RING;
    return (unsigned)(r < 0 ? r + RING : r);
}

const uint8_t *tsp_streams_read(const tsp_streams *s, unsigned sid, unsigned pos, uint64_t t)
{
    int64_t k = diagonal(sid, pos, t);
    const diag *d;
    const entry *best = NULL;
    uint32_t i;
    if (!s)
        return NULL;
    d = &s->d[sid][ring(k)];
    if (d->k != k)
        return NULL;
    for (i = 0; i < d->n; i++) {
        const entry *e = &d->e[i];
        if (TSP_SID_WEST(sid)) {
            if (e->pos > pos && (!best || e->pos < best->pos))
                best = e;
        } else {
            if (e->pos < pos && (!best || e->pos > best->pos))
                best = e;
        }
    }
    return best ? best->data : NULL;
}

static int write(tsp_streams *s, const uint64_t *now, unsigned sid, unsigned pos, uint64_t t,
                 const uint8_t *data, const tsp_writer *who, tsp_writer *other)
{
    int64_t k = diagonal(sid, pos, t);
    unsigned slot = ring(k);
    diag *d = &s->d[sid][slot];
    entry *e;
    uint32_t i;
    if (d->k != k) {
        if (now) {
            /* The newest dead diagonal: eastward k is read last at k + 51,
             * westward at k; no read happens before *now. */
            int64_t kd = TSP_SID_WEST(sid) ? (int64_t)*now - 1 : (int64_t)*now - TSP_POSITIONS;
            unsigned ds = ring(kd);
            diag *dd = &s->d[sid][ds];
            if (ds != slot && dd->k == kd && dd->cap) {
                entry *te = d->e;
                uint32_t tc = d->cap;
                d->e = dd->e;
                d->cap = dd->cap;
                dd->e = te;
                dd->cap = tc;
                dd->k = INT64_MIN;
                dd->n = 0;
            }
        }
        d->k = k;
        d->n = 0;
    }
    for (i = 0; i < d->n; i++) {
        /* Same diagonal and same position means the same cycle. */
        if (d->e[i].pos == pos) {
            *other = d->e[i].who;
            d->e[i].who = *who;
            tsp_copy_vector(d->e[i].data, data);
            return 1;
        }
    }
    if (d->n == d->cap) {
        uint32_t cap = d->cap ? 2 * d->cap : 2;
        entry *grown = realloc(d->e, cap * sizeof *grown);
        if (!grown)
            return -1;
        d->e = grown;
        d->cap = cap;
    }
    e = &d->e[d->n++];
    e->pos = (uint8_t)pos;
    e->who = *who;
    tsp_copy_vector(e->data, data);
    return 0;
}

int tsp_streams_write(tsp_streams *s, unsigned sid, unsigned pos, uint64_t t, const uint8_t *data,
                      const tsp_writer *who, tsp_writer *other)
{
    return write(s, NULL, sid, pos, t, data, who, other);
}

int tsp_streams_write_now(tsp_streams *s, uint64_t now, unsigned sid, unsigned pos, uint64_t t,
                          const uint8_t *data, const tsp_writer *who, tsp_writer *other)
{
    return write(s, &now, sid, pos, t, data, who, other);
}

/* Is this write still pending (leaving at a cycle >= now: it may yet clash
 * with another write) or can any position still see it at a cycle >= now? */
static int in_flight(unsigned sid, int64_t k, unsigned pos, uint64_t now)
{
    int64_t first, t = TSP_SID_WEST(sid) ? k - pos : k + pos;
    if (t >= (int64_t)now)
        return 1;
    if (TSP_SID_WEST(sid))  /* seen at q < pos at cycle k - q: the latest is q = 0 */
        return pos > 0 && k >= (int64_t)now;
    first = (int64_t)now - k;  /* q must be > pos and k + q >= now */
    if (first < (int64_t)pos + 1)
        first = (int64_t)pos + 1;
    return first <= TSP_POSITIONS - 1;
}

uint64_t tsp_streams_hash(const tsp_streams *s, uint64_t now, uint64_t h)
{
    unsigned sid, pos;
    uint32_t i;
    if (!s)
        return h;
    for (sid = 0; sid < TSP_SIDS; sid++) {
        unsigned order[RING], no = ordered(s->d[sid], order), o;
        for (o = 0; o < no; o++) {
            const diag *d = &s->d[sid][order[o]];
            /* position order, so the hash does not depend on arrival order */
            for (pos = 0; pos < TSP_POSITIONS; pos++) {
                for (i = 0; i < d->n; i++) {
                    const entry *e = &d->e[i];
                    if (e->pos != pos || !in_flight(sid, d->k, pos, now))
                        continue;
                    h = tsp_hash_u64(h, ((uint64_t)sid << 56) ^ ((uint64_t)pos << 48) ^ (uint64_t)d->k);
                    h = tsp_hash_u64(h, ((uint64_t)e->who.slot << 32) ^ e->who.row);
                    h = tsp_hash_u64(h, e->who.cycle);
                    h = tsp_hash_bytes(h, e->data, TSP_VECTOR_BYTES);
                }
            }
        }
    }
    return h;
}

/* How many stored writes leave their position at a cycle >= now (not yet
 * landed, in the terms of a pending-write event), and in *last the latest
 * such cycle (TSP_NO_CYCLE: none). */
uint64_t tsp_streams_pending(const tsp_streams *s, uint64_t now, uint64_t *last)
{
    uint64_t n = 0;
    unsigned sid, slot;
    uint32_t i;
    *last = TSP_NO_CYCLE;
    for (sid = 0; s && sid < TSP_SIDS; sid++)
        for (slot = 0; slot < RING; slot++) {
            const diag *d = &s->d[sid][slot];
            for (i = 0; d->k != INT64_MIN && i < d->n; i++) {
                int64_t t = TSP_SID_WEST(sid) ? d->k - d->e[i].pos : d->k + d->e[i].pos;
                if (t >= (int64_t)now && ++n && (*last == TSP_NO_CYCLE || (uint64_t)t > *last))
                    *last = (uint64_t)t;
            }
        }
    return n;
}

/* Snapshots (snapshot.c) save only what in_flight() keeps and re-add it with
 * tsp_streams_write, so the ring's layout stays private to this file. */
int tsp_streams_each(const tsp_streams *s, uint64_t now, tsp_streams_fn fn, void *ctx)
{
    unsigned sid;
    uint32_t i;
    int rc;
    if (!s)
        return 0;
    for (sid = 0; sid < TSP_SIDS; sid++) {
        unsigned order[RING], no = ordered(s->d[sid], order), o;
        for (o = 0; o < no; o++) {
            const diag *d = &s->d[sid][order[o]];
            for (i = 0; i < d->n; i++) {
                const entry *e = &d->e[i];
                /* the cycle it was written: the inverse of diagonal() */
                int64_t t = TSP_SID_WEST(sid) ? d->k - e->pos : d->k + e->pos;
                if (in_flight(sid, d->k, e->pos, now) && (rc = fn(ctx, sid, e->pos, (uint64_t)t, &e->who, e->data)))
                    return rc;
            }
        }
    }
    return 0;
}

uint64_t tsp_streams_bytes(const tsp_streams *s)
{
    uint64_t n;
    unsigned sid, slot;
    if (!s)
        return 0;
    n = sizeof *s;
    for (sid = 0; sid < TSP_SIDS; sid++)
        for (slot = 0; slot < RING; slot++)
            n += (uint64_t)s->d[sid][slot].cap * sizeof(entry);
    return n;
}
