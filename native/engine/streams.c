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
 * at least POSITIONS + AHEAD slots per stream holds them all (AHEAD: the
 * largest d_func); the ring is the next power of two (k & mask, no division)
 * and a slot still tagged with an older k is dead: the first write of its new
 * diagonal recycles it, taking over the storage of the diagonal that has just
 * died (touched a few dozen cycles ago, still in cache).
 *
 * Layout.  A diagonal keeps small entry records (position, writer, a pointer
 * to the 320 bytes) sorted upstream first, so a read is a short scan, and the
 * vectors themselves in a separate array of buffers.  A value read from MEM is
 * not copied at all: its entry points at the MEM row, and mem.c tells the
 * store (tsp_streams_row_written) before it changes a row that an entry may
 * still point at, which then gets a copy of the old row first.  Reads, the
 * hash and snapshots see the same bytes either way.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define NONE 0xFF               /* entry.buf: the data is not ours (a MEM row or the zero vector) */

typedef struct {
    uint8_t pos;
    uint8_t key;               /* upstream order: pos eastward, 255 - pos westward */
    uint8_t seq;               /* creation order in the diagonal (snapshots list entries in it) */
    uint8_t buf;               /* our buffer holding the data, or NONE */
    tsp_writer who;
    const uint8_t *data;       /* the value: d->b[buf], or a MEM row */
} entry;

/* Counts are bytes: a diagonal holds at most one entry per position (fewer
 * than 64, so the doubling capacity stops at 64) and at most NONE buffers.
 * That makes a diag 32 bytes, two to a cache line. */
typedef struct {
    int64_t k;                 /* the diagonal held in this slot (INT64_MIN: none yet) */
    uint8_t n, cap;            /* entries, sorted by key */
    uint8_t nb, capb;          /* buffers in use, allocated */
    entry *e;
    uint8_t (*b)[TSP_VECTOR_BYTES];
} diag;
_Static_assert(TSP_POSITIONS <= 64, "a diagonal's entry counts must fit a byte");

#define RING_MIN (TSP_POSITIONS + TSP_STREAMS_AHEAD)
#define RING (RING_MIN <= 64 ? 64 : RING_MIN <= 128 ? 128 : RING_MIN <= 256 ? 256 : 512)
#define MASK (RING - 1)
_Static_assert(RING >= RING_MIN && RING_MIN <= 512, "stream ring too small");
_Static_assert(TSP_POSITIONS < NONE, "positions must fit the entry's byte fields");
/* Hash and snapshot order stay those of the former 84-slot ring (slot k mod
 * ORDER_RING): the diagonals with values in flight span fewer than RING_MIN <=
 * ORDER_RING numbers, so that order is the same whatever RING is. */
#define ORDER_RING (TSP_POSITIONS + TSP_STREAMS_AHEAD_MAX)
/* A MEM row read at cycle r is referenced by entries read no later than this many cycles after r. */
#define ROW_LIVE (TSP_STREAMS_AHEAD + TSP_POSITIONS + 1)

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
    /* per MEM slice, per row: 1 + the last cycle an entry was made to point at
     * the row (0: never), allocated on the slice's first such read */
    uint64_t *rd[TSP_MEM_SLICES];
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
        for (j = 0; j < RING; j++) {
            free(s->d[i][j].e);
            free(s->d[i][j].b);
        }
    for (i = 0; i < TSP_MEM_SLICES; i++)
        free(s->rd[i]);
    free(s);
}

static inline int64_t diagonal(unsigned sid, unsigned pos, uint64_t t)
{
    return TSP_SID_WEST(sid) ? (int64_t)t + (int64_t)pos : (int64_t)t - (int64_t)pos;
}

static inline unsigned ring(int64_t k)
{
    return (unsigned)((uint64_t)k & MASK);
}

static inline unsigned key_of(unsigned sid, unsigned pos)
{
    return TSP_SID_WEST(sid) ? 255u - pos : pos;
}

const uint8_t *tsp_streams_read(const tsp_streams *s, unsigned sid, unsigned pos, uint64_t t)
{
    int64_t k = diagonal(sid, pos, t);
    const diag *d;
    unsigned key = key_of(sid, pos);
    uint32_t i;
    if (!s)
        return NULL;
    d = &s->d[sid][ring(k)];
    if (d->k != k)
        return NULL;
    /* the nearest write upstream: the last entry with a smaller key */
    for (i = d->n; i > 0 && d->e[i - 1].key >= key; i--)
        ;
    return i ? d->e[i - 1].data : NULL;
}

/* The entry for (sid, pos) leaving at t, made if there is none (*clash 0) or
 * the existing one, whose writer goes to *other (*clash 1); NULL: out of
 * memory.  The caller sets its data. */
TSP_INLINE entry *put(tsp_streams *s, const uint64_t *now, unsigned sid, unsigned pos, uint64_t t,
                  const tsp_writer *who, tsp_writer *other, diag **dp, int *clash)
{
    int64_t k = diagonal(sid, pos, t);
    unsigned slot = ring(k), key = key_of(sid, pos);
    diag *d = &s->d[sid][slot];
    entry *e;
    uint32_t i, j;
    *dp = d;
    if (d->k != k) {
        if (now) {
            /* The newest dead diagonal: eastward k is read last at k + 51,
             * westward at k; no read happens before *now. */
            int64_t kd = TSP_SID_WEST(sid) ? (int64_t)*now - 1 : (int64_t)*now - TSP_POSITIONS;
            diag *dd = &s->d[sid][ring(kd)];
            if (dd != d && dd->k == kd && dd->cap) {
                diag t2 = *d;
                d->e = dd->e;
                d->cap = dd->cap;
                d->b = dd->b;
                d->capb = dd->capb;
                dd->e = t2.e;
                dd->cap = t2.cap;
                dd->b = t2.b;
                dd->capb = t2.capb;
                dd->k = INT64_MIN;
                dd->n = dd->nb = 0;
            }
        }
        d->k = k;
        d->n = d->nb = 0;
    }
    /* Writes mostly come upstream first: look from the end. */
    for (i = d->n; i > 0 && d->e[i - 1].key > key; i--)
        ;
    if (i > 0 && d->e[i - 1].key == key) {
        /* Same diagonal and same position means the same cycle. */
        e = &d->e[i - 1];
        *other = e->who;
        e->who = *who;
        *clash = 1;
        return e;
    }
    if (d->n == d->cap) {
        uint32_t cap = d->cap ? 2 * d->cap : 4;
        entry *grown = realloc(d->e, cap * sizeof *grown);
        if (!grown)
            return NULL;
        d->e = grown;
        d->cap = cap;
    }
    for (j = d->n; j > i; j--)
        d->e[j] = d->e[j - 1];
    e = &d->e[i];
    e->pos = (uint8_t)pos;
    e->key = (uint8_t)key;
    e->seq = (uint8_t)d->n;
    e->buf = NONE;
    e->who = *who;
    e->data = tsp_zero_vector;
    d->n++;
    *clash = 0;
    return e;
}

/* The entry's own buffer (one is given to it if it points elsewhere); NULL: out of memory. */
static uint8_t *own(diag *d, entry *e)
{
    if (e->buf == NONE) {
        if (d->nb == d->capb) {
            uint32_t cap = d->capb ? 2 * d->capb : 4, i;
            uint8_t (*grown)[TSP_VECTOR_BYTES];
            if (cap > NONE)
                cap = NONE;
            if (d->nb == cap || !(grown = realloc(d->b, cap * sizeof *grown)))
                return NULL;
            d->b = grown;
            d->capb = cap;
            for (i = 0; i < d->n; i++)
                if (d->e[i].buf != NONE)
                    d->e[i].data = d->b[d->e[i].buf];
        }
        e->buf = (uint8_t)d->nb++;
        e->data = d->b[e->buf];
    }
    return (uint8_t *)d->b[e->buf];
}

uint8_t *tsp_streams_put(tsp_streams *s, uint64_t now, unsigned sid, unsigned pos, uint64_t t,
                         const tsp_writer *who, tsp_writer *other, int *rc)
{
    diag *d;
    entry *e = put(s, &now, sid, pos, t, who, other, &d, rc);
    uint8_t *buf = e ? own(d, e) : NULL;
    if (!buf)
        *rc = -1;
    return buf;
}

int tsp_streams_put_row(tsp_streams *s, uint64_t now, unsigned sid, unsigned pos, uint64_t t, const uint8_t *row,
                        int slice, uint32_t addr, const tsp_writer *who, tsp_writer *other)
{
    diag *d;
    int clash;
    entry *e;
    if (slice >= 0) {
        if (!s->rd[slice] && !(s->rd[slice] = calloc(TSP_MEM_WORDS, sizeof *s->rd[slice])))
            return -1;
        s->rd[slice][addr] = now + 1;
    }
    if (!(e = put(s, &now, sid, pos, t, who, other, &d, &clash)))
        return -1;
    if (e->buf != NONE)  /* replacing a value with a buffer of its own (a clash): reuse it */
        tsp_copy_vector((uint8_t *)d->b[e->buf], row);
    else
        e->data = row;
    return clash;
}

static int write(tsp_streams *s, const uint64_t *now, unsigned sid, unsigned pos, uint64_t t,
                 const uint8_t *data, const tsp_writer *who, tsp_writer *other)
{
    diag *d;
    int clash;
    entry *e = put(s, now, sid, pos, t, who, other, &d, &clash);
    uint8_t *buf = e ? own(d, e) : NULL;
    if (!buf)
        return -1;
    tsp_copy_vector(buf, data);
    return clash;
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

/* Every entry pointing at `row` (any row when NULL) gets its own copy of it. */
static int unref(tsp_streams *s, const uint8_t *row)
{
    unsigned sid, slot;
    uint32_t i;
    for (sid = 0; sid < TSP_SIDS; sid++)
        for (slot = 0; slot < RING; slot++) {
            diag *d = &s->d[sid][slot];
            for (i = 0; d->k != INT64_MIN && i < d->n; i++) {
                entry *e = &d->e[i];
                const uint8_t *old = e->data;
                uint8_t *buf;
                if (e->buf != NONE || old == tsp_zero_vector || (row && old != row))
                    continue;
                if (!(buf = own(d, e)))
                    return -1;
                tsp_copy_vector(buf, old);
            }
        }
    return 0;
}

int tsp_streams_row_written(tsp_streams *s, int slice, uint32_t addr, const uint8_t *row, uint64_t now)
{
    uint64_t r;
    if (!s || !s->rd[slice] || !(r = s->rd[slice][addr]) || r - 1 + ROW_LIVE < now)
        return 0;
    s->rd[slice][addr] = 0;
    return unref(s, row);
}

int tsp_streams_unref_all(tsp_streams *s)
{
    unsigned i;
    if (!s)
        return 0;
    for (i = 0; i < TSP_MEM_SLICES; i++)
        if (s->rd[i])
            memset(s->rd[i], 0, TSP_MEM_WORDS * sizeof *s->rd[i]);
    return unref(s, NULL);
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
 * tsp_streams_write, so the ring's layout stays private to this file.  Entries
 * of a diagonal come in the order they were first written. */
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
            const entry *by_seq[NONE];
            for (i = 0; i < d->n; i++)
                by_seq[d->e[i].seq] = &d->e[i];
            for (i = 0; i < d->n; i++) {
                const entry *e = by_seq[i];
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
            n += (uint64_t)s->d[sid][slot].cap * sizeof(entry) + (uint64_t)s->d[sid][slot].capb * TSP_VECTOR_BYTES;
    for (sid = 0; sid < TSP_MEM_SLICES; sid++)
        n += s->rd[sid] ? TSP_MEM_WORDS * sizeof(uint64_t) : 0;
    return n;
}
