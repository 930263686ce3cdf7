/* Snapshots: the whole machine as one flat byte string, and back.
 *
 * Field by field and little-endian rather than a dump of the structs, because
 * the structs hold pointers and padding and a snapshot must be checkable: a
 * corrupt or foreign one is refused, never trusted.  One codec per structure
 * serves both directions (io.load), so save and load cannot drift apart.
 * Only state that can still matter is written - non-zero rows, values still in
 * flight (streams.c), live pending writes - which keeps a snapshot near the
 * size of the data the program actually touched.  Load builds the new state in
 * a scratch machine and swaps it in only when all of it parsed and checked, so
 * a rejected snapshot leaves the machine as it was (its last-error text aside).
 * The chip-level codecs are in snapshot_chip.c. */
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

#define MAGIC "TSPSNAP"   /* 8 bytes with its NUL */
#define VERSION 4          /* 4: clock drift, jitter seed, per-queue sync skew; 3: events in (cycle, tie) order */
#define ID_LEN 64          /* sha256 hex of the ISA, of the engine sources */
#define HEADER (8 + 4 + 2 * ID_LEN + 4 + 8 + 8)

#ifndef TSP_ENGINE_SOURCE_HASH
#define TSP_ENGINE_SOURCE_HASH "unknown"
#endif

uint64_t snap_num(snap_io *s, uint64_t v, unsigned bytes)
{
    uint8_t b[8];
    unsigned i;
    if (!s->load) {
        for (i = 0; i < bytes; i++)
            b[i] = (uint8_t)(v >> (8 * i));
        snap_raw(s, b, bytes);
        return v;
    }
    snap_raw(s, b, bytes);
    for (v = 0, i = bytes; i-- > 0;)
        v = (v << 8) | b[i];
    return v;
}

void snap_raw(snap_io *s, void *data, size_t n)
{
    if (s->load) {
        if (s->bad || n > s->cap - s->n) {
            s->bad = 1;
            memset(data, 0, n);
            return;
        }
        memcpy(data, s->in + s->n, n);
    } else if (s->p && n <= s->cap - s->n) {
        memcpy(s->p + s->n, data, n);
    }
    s->n += n;
}

int snap_room(snap_io *s, uint64_t count, size_t each)
{
    if (s->load && (s->bad || count > (s->cap - s->n) / each))
        s->bad = 1;
    return !s->bad;
}

void snap_info(snap_io *s, tsp_error_info *w)
{
    w->code = (int)(int32_t)snap_num(s, (uint32_t)w->code, 4);
    w->chip = (int32_t)snap_num(s, (uint32_t)w->chip, 4);
    w->cycle = snap_num(s, w->cycle, 8);
    w->slot = (int32_t)snap_num(s, (uint32_t)w->slot, 4);
    w->row = (int32_t)snap_num(s, (uint32_t)w->row, 4);
    w->repeat = (int64_t)snap_num(s, (uint64_t)w->repeat, 8);
    w->slot2 = (int32_t)snap_num(s, (uint32_t)w->slot2, 4);
    w->row2 = (int32_t)snap_num(s, (uint32_t)w->row2, 4);
}

/* A length-prefixed string into a buffer of `size` bytes (load: malloc'ed when *heap). */
static void text(snap_io *s, char **str, size_t size)
{
    size_t n = snap_num(s, *str ? strlen(*str) : 0, 4);
    if (s->load) {
        if (!snap_room(s, n, 1) || (size && n >= size))
            return (void)(s->bad = 1);
        if (!size && !(*str = malloc(n + 1)))
            return (void)(s->nomem = 1);
        (*str)[n] = 0;
    }
    snap_raw(s, *str, n);
}

/* Saved in (cycle, tie) order, whatever the calendar/heap split (events.c):
 * a sorted array is a valid binary heap, so a load puts them all in the heap. */
static void events(snap_io *s, tsp_machine *m)
{
    tsp_events *e = &m->events;
    tsp_event *sorted = NULL;
    size_t i, n = snap_num(s, tsp_events_count(e), 8);
    if (!s->load && n && !(sorted = tsp_events_sorted(e)))
        return (void)(s->nomem = 1);
    if (!snap_room(s, n, 16))
        return;
    if (s->load && n) {
        e->ev = malloc(n * sizeof *e->ev);
        e->pool = malloc(n * sizeof *e->pool);
        e->free_list = malloc(n * sizeof *e->free_list);
        if (!e->ev || !e->pool || !e->free_list)
            return (void)(s->nomem = 1);
        e->cap = e->pool_cap = n;
    }
    for (i = 0; i < n && !s->bad; i++) {
        tsp_event *ev = s->load ? &e->ev[i] : &sorted[i];
        tsp_pending *p;
        ev->cycle = snap_num(s, ev->cycle, 8);
        ev->tie = snap_num(s, ev->tie, 8);
        if (!(ev->tie & TSP_TIE_WRITE)) {
            uint64_t chip = ev->tie >> 16, slot = ev->tie & 0xFFFF;
            /* the queue it issues from must exist and have a word to issue */
            if (s->load && (chip >= m->nchips || !m->chips[chip] || slot >= TSP_NUM_QUEUES ||
                            !snap_queue_can_issue(&m->chips[chip]->q[slot])))
                s->bad = 1;
            if (s->load)
                ev->idx = 0;
            continue;
        }
        if (s->load)
            ev->idx = (uint32_t)e->pool_n++;  /* live writes only: the pool comes back compacted */
        p = &e->pool[ev->idx];
        p->chip = (uint32_t)snap_num(s, p->chip, 4);
        p->sid = (uint8_t)snap_num(s, p->sid, 1);
        p->pos = (uint8_t)snap_num(s, p->pos, 1);
        snap_writer(s, &p->who);
        snap_raw(s, p->data, TSP_VECTOR_BYTES);
        if (s->load && (p->sid == TSP_SID_C2C_VECTOR || p->sid == TSP_SID_C2C_NOTE)) {
            /* a flit in flight: it lands on a wired port of an existing chip */
            if (p->chip >= m->nchips || !m->chips[p->chip] || !m->chips[p->chip]->links ||
                p->pos >= TSP_C2C_LINKS || m->chips[p->chip]->links[p->pos].peer < 0 ||
                p->who.slot >= TSP_NUM_QUEUES)
                s->bad = 1;
        } else if (s->load && p->sid == TSP_SID_CLASH) {
            tsp_writer other;  /* a clash to report (stream_io.c): data holds the sid and the other writer */
            memcpy(&other, p->data + 8, sizeof other);
            if (p->chip >= m->nchips || !m->chips[p->chip] || p->data[0] >= TSP_SIDS ||
                p->pos >= TSP_POSITIONS || p->who.slot >= TSP_NUM_QUEUES || other.slot > TSP_NUM_QUEUES)
                s->bad = 1;
        } else if (s->load && (p->chip >= m->nchips || !m->chips[p->chip] || p->sid >= TSP_SIDS ||
                               p->pos >= TSP_POSITIONS || p->who.slot >= TSP_NUM_QUEUES))
            s->bad = 1;
    }
    free(sorted);
    if (s->load) {
        e->n = i;
        for (i = 1; i < e->n; i++) {  /* saved in heap order: it must still be a heap */
            const tsp_event *a = &e->ev[(i - 1) / 2], *b = &e->ev[i];
            if (b->cycle < a->cycle || (b->cycle == a->cycle && b->tie < a->tie))
                s->bad = 1;
        }
    }
}

static void machine(snap_io *s, tsp_machine *m)
{
    char *err = m->err;
    size_t i;
    uint32_t c;
    m->cycle = snap_num(s, m->cycle, 8);
    m->end_cycle = snap_num(s, m->end_cycle, 8);
    m->seq = snap_num(s, m->seq, 8);
    m->started = (int)snap_num(s, (uint32_t)m->started, 1);
    m->fault = (int)snap_num(s, (uint32_t)m->fault, 1);
    m->hazard_mode = (int)snap_num(s, (uint32_t)m->hazard_mode, 1);
    text(s, &err, sizeof m->err);
    snap_info(s, &m->err_info);
    m->stats.events = snap_num(s, m->stats.events, 8);
    m->stats.issued = snap_num(s, m->stats.issued, 8);
    m->stats.executed = snap_num(s, m->stats.executed, 8);
    m->stats.stream_writes = snap_num(s, m->stats.stream_writes, 8);
    m->jitter_seed = snap_num(s, m->jitter_seed, 8);
    if (snap_num(s, m->drift_ppb != NULL, 1)) {
        if (s->load && !snap_room(s, m->nchips, 8))
            return;
        if (s->load && !(m->drift_ppb = calloc(m->nchips, sizeof *m->drift_ppb)))
            return (void)(s->nomem = 1);
        for (c = 0; c < m->nchips; c++) {
            m->drift_ppb[c] = (int64_t)snap_num(s, (uint64_t)m->drift_ppb[c], 8);
            if (s->load && (m->drift_ppb[c] > TSP_DRIFT_PPB_MAX || m->drift_ppb[c] < -TSP_DRIFT_PPB_MAX))
                s->bad = 1;
        }
    }
    m->nhazards = snap_num(s, m->nhazards, 8);
    m->hazards_n = snap_num(s, m->hazards_n, 4);
    if (s->load && (m->hazards_n > TSP_HAZARDS_KEPT || m->hazards_n > m->nhazards ||
                    (m->hazard_mode != TSP_HAZARDS_STOP && m->hazard_mode != TSP_HAZARDS_WARN)))
        s->bad = 1;
    if (s->load && !s->bad && m->hazards_n) {
        if (!(m->hazards = calloc(m->hazards_n, sizeof *m->hazards)))
            return (void)(s->nomem = 1);
        m->hazards_cap = m->hazards_n;
    }
    for (i = 0; i < m->hazards_n && !s->bad && !s->nomem; i++) {
        if (snap_num(s, m->hazards[i].message != NULL, 1))
            text(s, &m->hazards[i].message, 0);
        snap_info(s, &m->hazards[i].info);
    }
    for (c = 0; c < m->nchips && !s->bad && !s->nomem; c++)
        snap_chip(s, m, c);
    if (s->load && !s->bad && !s->nomem && !snap_links_ok(m))
        s->bad = 1;
    if (!s->bad && !s->nomem)
        events(s, m);
}

static void header(snap_io *s, const tsp_machine *m, uint64_t *payload, uint64_t *sum)
{
    char id[2][ID_LEN + 1] = { TSP_ISA_FINGERPRINT, TSP_ENGINE_SOURCE_HASH }, got[ID_LEN];
    char magic[8] = MAGIC;
    int k;
    snap_raw(s, magic, 8);
    if (s->load && memcmp(magic, MAGIC, 8) != 0)
        s->why = "it is not a TSP-1 snapshot";
    if (snap_num(s, VERSION, 4) != VERSION && !s->why)
        s->why = "it is from another snapshot format version";
    for (k = 0; k < 2; k++) {
        memcpy(got, id[k], ID_LEN);
        snap_raw(s, got, ID_LEN);
        if (memcmp(got, id[k], ID_LEN) != 0 && !s->why)
            s->why = k ? "it was saved by an engine built from other sources" : "it was saved for another ISA";
    }
    if (snap_num(s, m->nchips, 4) != m->nchips && !s->why)
        s->why = "it was saved from a machine with another number of chips";
    *payload = snap_num(s, *payload, 8);
    *sum = snap_num(s, *sum, 8);
}

int tsp_snapshot_size(const tsp_machine *m, uint64_t *out)
{
    snap_io s = { 0 };
    uint64_t payload = 0, sum = 0;
    if (!m || !out)
        return TSP_E_ARG;
    s.cap = SIZE_MAX;
    header(&s, m, &payload, &sum);
    machine(&s, (tsp_machine *)m);  /* saving only reads: the codec writes back what it read */
    if (s.nomem)
        return TSP_E_NOMEM;
    *out = s.n;
    return TSP_OK;
}

int tsp_snapshot_save(const tsp_machine *m, uint8_t *buf, uint64_t len)
{
    snap_io s = { 0 };
    uint64_t payload, sum = 0;
    if (!m || !buf || len < HEADER)
        return TSP_E_ARG;
    /* One pass, no measuring first: snap_raw stops copying at len and keeps counting. */
    s.p = buf;
    s.cap = len;
    s.n = HEADER;
    machine(&s, (tsp_machine *)m);
    if (s.nomem)
        return TSP_E_NOMEM;
    if (s.n > len)
        return TSP_E_ARG;
    payload = s.n - HEADER;
    sum = tsp_hash_bytes(0, buf + HEADER, payload);
    s.n = 0;
    header(&s, m, &payload, &sum);
    return TSP_OK;
}

int tsp_snapshot_load(tsp_machine *m, const uint8_t *buf, uint64_t len)
{
    snap_io s = { 0 };
    tsp_machine *fresh, swap;
    tsp_error_info w;
    uint64_t payload = 0, sum = 0;
    int rc;
    if (!m || (!buf && len))
        return TSP_E_ARG;
    memset(&w, 0, sizeof w);
    w.chip = w.slot = w.row = w.slot2 = w.row2 = -1;
    s.load = 1;
    s.in = buf;
    s.cap = len;
    header(&s, m, &payload, &sum);
    if (!s.why && (s.bad || payload != len - HEADER || tsp_hash_bytes(0, buf + HEADER, payload) != sum))
        s.why = "it is truncated or corrupt (the checksum does not match)";
    if (s.why)
        return tsp_fail_at(m, TSP_E_SNAPSHOT, &w, "cannot restore the snapshot: %s", s.why);
    if ((rc = tsp_create(m->nchips, &fresh)) != TSP_OK)
        return rc;
    machine(&s, fresh);
    if (s.nomem || s.bad || s.n != len) {
        tsp_destroy(fresh);
        if (s.nomem)
            return tsp_fail_at(m, TSP_E_NOMEM, &w, "no memory to restore the snapshot");
        return tsp_fail_at(m, TSP_E_SNAPSHOT, &w, "cannot restore the snapshot: its contents are inconsistent");
    }
    swap = *m;  /* the old state goes to `fresh` and is freed with it */
    *m = *fresh;
    *fresh = swap;
    m->steady_off = swap.steady_off;  /* a host setting, not machine state */
    tsp_destroy(fresh);
    return TSP_OK;
}

int tsp_stream_poke(tsp_machine *m, uint32_t chip, uint32_t sid, uint32_t pos, const uint8_t *data)
{
    tsp_writer host = { TSP_NUM_QUEUES, 0, 0 }, other;
    int west = TSP_SID_WEST(sid);
    tsp_chip *c;
    if (!m || chip >= m->nchips || sid >= TSP_SIDS || pos >= TSP_POSITIONS || !data ||
        pos == (west ? TSP_POSITIONS - 1u : 0u))
        return TSP_E_ARG;
    if (!(c = tsp_chip_get(m, chip)) || (!c->streams && !(c->streams = tsp_streams_new())))
        return TSP_E_NOMEM;
    /* Written leaving the upstream neighbour one cycle ago: it arrives at pos now.
     * At cycle 0 that cycle is -1; the diagonal arithmetic is modulo 2^64 and still right. */
    host.cycle = m->cycle - 1;
    if (tsp_streams_write(c->streams, sid, west ? pos + 1 : pos - 1, m->cycle - 1, data, &host, &other) < 0)
        return TSP_E_NOMEM;
    return TSP_OK;
}
