/* The per-chip part of a snapshot: queues, MEM, bank ports, values in flight,
 * MXM planes, sync state (format and rationale: snapshot.c).
 *
 * Loading checks everything the event loop later trusts without checking -
 * words are legal for their queue, row indices are inside the queue, states
 * and counts are in range - because a snapshot is input, and a bad one must
 * be an error, not a crash many cycles later. */
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

void snap_writer(snap_io *s, tsp_writer *who)
{
    who->slot = (uint32_t)snap_num(s, who->slot, 4);
    who->row = (uint32_t)snap_num(s, who->row, 4);
    who->cycle = snap_num(s, who->cycle, 8);
}

int snap_queue_can_issue(const tsp_queue *q)
{
    return (q->state == TSP_Q_READY && q->next < q->nwords) || (q->state == TSP_Q_REPEAT && q->rep_row < q->nwords);
}

/* Only the non-zero rows of `nrows` x 320 bytes: MEM and MXM arrays are mostly
 * untouched.  Saving scans once and patches the count in afterwards, because
 * the scan of every allocated MEM slice is most of a snapshot's cost. */
static void put_count(snap_io *s, size_t at, uint32_t n)
{
    int k;
    for (k = 0; s->p && k < 4 && at + 4 <= s->cap; k++)
        s->p[at + (size_t)k] = (uint8_t)(n >> (8 * k));
}

static void rows(snap_io *s, uint8_t *base, uint32_t nrows)
{
    size_t at = s->n;
    uint32_t i, n = (uint32_t)snap_num(s, 0, 4), idx;
    if (!s->load) {
        for (i = 0; i < nrows; i++) {
            uint8_t *row = base + (size_t)i * TSP_VECTOR_BYTES;
            if (memcmp(row, tsp_zero_vector, TSP_VECTOR_BYTES) != 0) {
                snap_num(s, i, 4);
                snap_raw(s, row, TSP_VECTOR_BYTES);
                n++;
            }
        }
        return put_count(s, at, n);
    }
    if (n > nrows)
        s->bad = 1;
    for (i = 0; i < n && !s->bad; i++) {
        idx = (uint32_t)snap_num(s, 0, 4);
        if (idx >= nrows)
            return (void)(s->bad = 1);
        snap_raw(s, base + (size_t)idx * TSP_VECTOR_BYTES, TSP_VECTOR_BYTES);
    }
}

static int legal(unsigned slot, uint64_t lo, uint64_t hi)
{
    const tsp_opinfo *op = tsp_op((unsigned)(lo & 0xFF));
    return op && (op->units & (1u << tsp_queue_unit(slot))) && !tsp_op_stray_bits((unsigned)(lo & 0xFF), lo, hi);
}

static void queue(snap_io *s, tsp_queue *q, unsigned slot)
{
    uint32_t i;
    if (!snap_num(s, q->nwords != 0 || q->state != TSP_Q_EMPTY, 1))
        return;  /* never loaded: the defaults of tsp_chip_get */
    q->nwords = (uint32_t)snap_num(s, q->nwords, 4);
    if (!snap_room(s, q->nwords, 16))
        return;
    if (s->load && q->nwords && !(q->words = malloc((size_t)q->nwords * 2 * sizeof *q->words)))
        return (void)(s->nomem = 1);
    for (i = 0; i < 2 * q->nwords; i++)
        q->words[i] = snap_num(s, q->words[i], 8);
    q->next = (uint32_t)snap_num(s, q->next, 4);
    q->state = (uint32_t)snap_num(s, q->state, 1);
    q->next_cycle = snap_num(s, q->next_cycle, 8);
    q->busy_until = snap_num(s, q->busy_until, 8);
    q->prev_row = (int64_t)snap_num(s, (uint64_t)q->prev_row, 8);
    q->prev_cycle = snap_num(s, q->prev_cycle, 8);
    q->prev_unit = (int)snap_num(s, (uint32_t)q->prev_unit, 1);
    q->rep_row = (uint32_t)snap_num(s, q->rep_row, 4);
    q->rep_base = snap_num(s, q->rep_base, 8);
    q->rep_k = snap_num(s, q->rep_k, 8);
    q->rep_n = snap_num(s, q->rep_n, 8);
    q->rep_d = snap_num(s, q->rep_d, 8);
    q->issued = snap_num(s, q->issued, 8);
    q->executed = snap_num(s, q->executed, 8);
    q->sync_skew = (int64_t)snap_num(s, (uint64_t)q->sync_skew, 8);
    if (!s->load)
        return;
    if (q->nwords == 0 || q->state > TSP_Q_DONE || q->next > q->nwords || q->prev_row < -1 ||
        q->prev_row >= (int64_t)q->nwords || q->prev_unit > 1 ||
        ((q->state == TSP_Q_READY || q->state == TSP_Q_REPEAT) && !snap_queue_can_issue(q)))
        s->bad = 1;
    for (i = 0; i < q->nwords && !s->bad; i++)
        if (!legal(slot, q->words[2 * i], q->words[2 * i + 1]))
            s->bad = 1;
}

static int save_entry(void *ctx, unsigned sid, unsigned pos, uint64_t t, const tsp_writer *who, const uint8_t *data)
{
    snap_io *s = ctx;
    tsp_writer w = *who;
    snap_num(s, sid, 1);
    snap_num(s, pos, 1);
    snap_num(s, t, 8);
    snap_writer(s, &w);
    snap_raw(s, (void *)data, TSP_VECTOR_BYTES);
    s->count++;
    return 0;
}

/* Values in flight: saved through tsp_streams_each, re-added with tsp_streams_write. */
static void streams(snap_io *s, tsp_chip *c, uint64_t now)
{
    uint8_t data[TSP_VECTOR_BYTES];
    size_t at = s->n;
    uint32_t i, n;
    int k;
    if (!snap_num(s, c->streams != NULL, 1))
        return;
    if (!s->load) {
        s->count = 0;
        snap_num(s, 0, 4);  /* the count, patched below once known */
        tsp_streams_each(c->streams, now, save_entry, s);
        return put_count(s, at + 1, s->count);
    }
    if (!(c->streams = tsp_streams_new()))
        return (void)(s->nomem = 1);
    n = (uint32_t)snap_num(s, 0, 4);
    for (i = 0; i < n && !s->bad && !s->nomem; i++) {
        tsp_writer who, other;
        unsigned sid = (unsigned)snap_num(s, 0, 1), pos = (unsigned)snap_num(s, 0, 1);
        uint64_t t = snap_num(s, 0, 8);
        snap_writer(s, &who);
        snap_raw(s, data, TSP_VECTOR_BYTES);
        if (s->bad || sid >= TSP_SIDS || pos >= TSP_POSITIONS)
            return (void)(s->bad = 1);
        k = tsp_streams_write(c->streams, sid, pos, t, data, &who, &other);
        if (k)  /* 1: two values at one place, which a saved machine never holds */
            return (void)(k < 0 ? (s->nomem = 1) : (s->bad = 1));
    }
}

static void plane(snap_io *s, tsp_chip *c, unsigned p)
{
    tsp_mxm_plane *pl = c->mxm[p];
    unsigned i, j;
    if (!snap_num(s, pl != NULL, 1))
        return;
    if (s->load && !(pl = c->mxm[p] = calloc(1, sizeof *pl)))
        return (void)(s->nomem = 1);
    rows(s, &pl->buf[0][0], MXM_ROWS);
    pl->buf_next = (uint32_t)snap_num(s, pl->buf_next, 4);
    rows(s, (uint8_t *)&pl->arr[0][0][0], MXM_ROWS);
    rows(s, (uint8_t *)&pl->arr[1][0][0], MXM_ROWS);
    pl->active = (int)snap_num(s, (uint32_t)pl->active, 1);
    pl->install_at = snap_num(s, pl->install_at, 8);
    pl->busy_at = snap_num(s, pl->busy_at, 8);
    for (i = 0; i < MXM_INFLIGHT; i++) {
        mxm_product *pr = &pl->inflight[i];
        pr->arrives = snap_num(s, pr->arrives, 8);
        if (pr->arrives == TSP_NO_CYCLE)
            continue;
        pr->issued = snap_num(s, pr->issued, 8);
        pr->dtype = (uint8_t)snap_num(s, pr->dtype, 1);
        for (j = 0; j < MXM_COLS; j++)
            pr->y[j] = (uint32_t)snap_num(s, pr->y[j], 4);
        if (s->load && pr->dtype != TSP_DTYPE_I8 && pr->dtype != TSP_DTYPE_F16)
            s->bad = 1;
    }
    for (i = 0; i < TSP_MXM_ACC_SLOTS && !s->bad; i++) {
        if (!snap_num(s, pl->acc[i] != NULL, 1))
            continue;
        if (s->load && !(pl->acc[i] = calloc(MXM_COLS, sizeof(uint32_t))))
            return (void)(s->nomem = 1);
        for (j = 0; j < MXM_COLS; j++)
            pl->acc[i][j] = (uint32_t)snap_num(s, pl->acc[i][j], 4);
    }
    if (s->load && (pl->buf_next > MXM_ROWS || pl->active > 1))
        s->bad = 1;
}

/* C2C ports: wiring, bandwidth state, FIFO contents (oldest first; loading puts
 * the oldest at index 0), counters.  Flits in flight are pending events (snapshot.c). */
static void links(snap_io *s, tsp_machine *m, tsp_chip *c)
{
    unsigned p, i;
    if (!snap_num(s, c->links != NULL, 1))
        return;
    if (s->load && !(c->links = calloc(TSP_C2C_LINKS, sizeof *c->links)))
        return (void)(s->nomem = 1);
    for (p = 0; p < TSP_C2C_LINKS && !s->bad && !s->nomem; p++) {
        tsp_link *l = &c->links[p];
        uint32_t head = l->rx_head;
        l->peer = (int32_t)snap_num(s, (uint32_t)l->peer, 4);
        if (l->peer < 0) {
            if (s->load && l->peer != -1)
                s->bad = 1;
            continue;
        }
        l->peer_port = (uint32_t)snap_num(s, l->peer_port, 1);
        l->latency = (uint32_t)snap_num(s, l->latency, 4);
        l->tx_free = snap_num(s, l->tx_free, 8);
        l->sent = snap_num(s, l->sent, 8);
        l->received = snap_num(s, l->received, 8);
        l->rx_n = (uint32_t)snap_num(s, l->rx_n, 1);
        if (s->load && ((uint32_t)l->peer >= m->nchips || l->peer_port >= TSP_C2C_LINKS || l->latency == 0 ||
                        l->rx_n > TSP_C2C_RX_FIFO_DEPTH))
            return (void)(s->bad = 1);
        if (!snap_num(s, l->rx != NULL, 1)) {
            if (s->load && l->rx_n)
                s->bad = 1;
            continue;
        }
        if (s->load) {
            head = l->rx_head = 0;
            if (!(l->rx = calloc(TSP_C2C_RX_FIFO_DEPTH, TSP_VECTOR_BYTES)))
                return (void)(s->nomem = 1);
        }
        for (i = 0; i < l->rx_n; i++)
            snap_raw(s, l->rx[(head + i) % TSP_C2C_RX_FIFO_DEPTH], TSP_VECTOR_BYTES);
    }
    if (s->load)
        for (p = 0; p < TSP_C2C_LINKS; p++)
            if (c->links[p].peer < 0)
                c->links[p].peer = -1;
}

/* Loading: every wired port's peer must exist and point back at it. */
int snap_links_ok(const tsp_machine *m)
{
    uint32_t chip, p;
    for (chip = 0; chip < m->nchips; chip++) {
        const tsp_chip *c = m->chips[chip];
        for (p = 0; c && c->links && p < TSP_C2C_LINKS; p++) {
            const tsp_link *l = &c->links[p], *back;
            const tsp_chip *peer;
            if (l->peer < 0)
                continue;
            peer = m->chips[l->peer];
            if (!peer || !peer->links)
                return 0;
            back = &peer->links[l->peer_port];
            if (back->peer != (int32_t)chip || back->peer_port != p || back->latency != l->latency)
                return 0;
        }
    }
    return 1;
}

void snap_chip(snap_io *s, tsp_machine *m, uint32_t chip)
{
    tsp_chip *c = m->chips[chip];
    unsigned i, parked = 0;
    if (!snap_num(s, c != NULL, 1))
        return;
    if (s->load && !(c = tsp_chip_get(m, chip)))
        return (void)(s->nomem = 1);
    for (i = 0; i < TSP_NUM_QUEUES && !s->bad && !s->nomem; i++) {
        queue(s, &c->q[i], i);
        parked += c->q[i].state == TSP_Q_PARKED;
    }
    for (i = 0; i < TSP_MEM_SLICES && !s->bad && !s->nomem; i++) {
        if (!snap_num(s, c->mem[i] != NULL, 1))
            continue;
        if (s->load && !(c->mem[i] = tsp_mem_slice_new()))
            return (void)(s->nomem = 1);
        rows(s, c->mem[i], TSP_MEM_WORDS);
    }
    for (i = 0; i < TSP_MEM_SLICES; i++) {
        tsp_port *p = &c->port[i];
        p->cycle = snap_num(s, p->cycle, 8);
        p->reads = (uint8_t)snap_num(s, p->reads, 1);
        p->writes = (uint8_t)snap_num(s, p->writes, 1);
        p->rbanks = (uint8_t)snap_num(s, p->rbanks, 1);
        p->wbanks = (uint8_t)snap_num(s, p->wbanks, 1);
        p->rrow = (int32_t)snap_num(s, (uint32_t)p->rrow, 4);
        p->raddr = (int32_t)snap_num(s, (uint32_t)p->raddr, 4);
        p->waddr = (int32_t)snap_num(s, (uint32_t)p->waddr, 4);
    }
    if (!s->bad && !s->nomem)
        streams(s, c, m->cycle);
    for (i = 0; i < TSP_MXM_PLANES && !s->bad && !s->nomem; i++)
        plane(s, c, i);
    c->nnotify = (uint32_t)snap_num(s, c->nnotify, 1);
    if (s->load && c->nnotify > TSP_SYNC_NOTIFY_LATENCY + 1)
        return (void)(s->bad = 1);
    for (i = 0; i < c->nnotify; i++)
        c->notify[i] = snap_num(s, c->notify[i], 8);
    c->parked = (uint32_t)snap_num(s, c->parked, 4);
    c->config_mask = snap_num(s, c->config_mask, 8);
    c->ifetch_words = snap_num(s, c->ifetch_words, 8);
    c->notifies = snap_num(s, c->notifies, 8);
    c->sync_release = snap_num(s, c->sync_release, 8);
    c->transmits = snap_num(s, c->transmits, 8);
    c->hacs = snap_num(s, c->hacs, 8);
    c->sacs = snap_num(s, c->sacs, 8);
    c->sac_offset = snap_num(s, c->sac_offset, 8);
    if (!s->bad && !s->nomem)
        links(s, m, c);
    if (s->load && c->parked != parked)
        s->bad = 1;
}
