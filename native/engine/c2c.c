/* Chip-to-chip links and the multi-chip sync instructions (send, receive,
 * transmit, hac, sac), plus the machine's memory account.
 *
 * Wiring.  tsp_link_set joins port pa of chip a to port pb of chip b with a
 * latency L >= 1 (Python passes the tspasm.topology links that touch the
 * program's chips, before the first run).  A chip's port array exists only once
 * one of its ports is wired and a port's receive FIFO only once a vector
 * arrives there, so idle links cost nothing; in-flight flits are ordinary
 * pending events of the event queue (events.c, always in its heap), so idle cycles cost nothing either.
 * Every chip runs in lockstep on the machine's one global cycle.
 *
 * Rules (docs/engine.md "Chip-to-chip links" says the same):
 *  - Every word of send/receive/transmit/hac must name a wired port; a load that
 *    breaks this fails (tsp_links_check), and so would the issue.
 *  - send Lp, S issued at cycle t on chip c reads the vector on S at the C2C
 *    queue's position at t (a missing value is the usual schedule error).  The
 *    vector is receivable on the peer chip's peer port from cycle t + L on: it
 *    enters the FIFO at the end of cycle t + L - 1 (after that cycle's issues),
 *    so a receive at t + L pops it and one at t + L - 1 does not.
 *  - Bandwidth: a link carries one flit per c2c.link_cycles_per_vector (24)
 *    cycles in each direction; a flit is a send's vector or a transmit's
 *    notification.  A flit issued at t holds the link's sending side for cycles
 *    t .. t + 23; another flit on it before t + 24 is the schedule error "link L3
 *    of chip 0 oversubscribed: previous vector still on the wire until cycle
 *    t + 23".  (No back-pressure and no retransmission: the flit still goes in
 *    hazards="warn" mode.)
 *  - A vector that becomes receivable at cycle a while the FIFO already holds
 *    c2c.rx_fifo_depth (4) vectors that no receive before cycle a popped is the
 *    schedule error "FIFO overflow on chip 1 L3"; in warn mode it is dropped.
 *  - receive Lp, S pops the oldest vector of the port's FIFO and writes it onto
 *    S like any producer with d_func = 1 (isa).  An empty FIFO is the schedule
 *    error "receive on chip 1 L3: FIFO empty (next vector arrives at cycle N |
 *    nothing in flight)"; in warn mode the receive writes zeros.
 *  - The hardware aligned counters of all chips start at 0 and stay aligned,
 *    so an epoch boundary is a multiple of hac_epoch (256) in global time;
 *    without clock drift that is every chip's own cycle count.  deskew waits
 *    for the next one (icu.c).  Optional drift and jitter (clock.c) move
 *    arrivals and boundaries in local cycles; the rules below are stated
 *    without them, where local time is global time and L is the link latency.
 *  - transmit Lp at t sends a notification flit (it takes the link's bandwidth
 *    like a vector).  It arrives at a = t + L and is consumed at the first epoch
 *    boundary b >= a: every queue of the peer chip that issued `sync` before b
 *    and is still parked resumes at b (issues its next word at cycle b), whether
 *    it parked before or after a.  A sync issued at b or later is not released
 *    by it.  With no queue parked the notification is consumed and has no
 *    effect.  Since L >= 1, b is always the one boundary in (a - 1, a + 255].
 *  - hac Lp (send the HAC for calibration) and sac offset (align the software
 *    counter): the engine models the HACs as already calibrated (the hardware
 *    keeps them aligned, also under drift), so calibration is a no-op.  Both are accepted and counted (chip_info hacs / sacs; sac
 *    keeps its offset); hac checks its port is wired but puts nothing on the
 *    wire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "mxm.h"

#define DEPTH TSP_C2C_RX_FIFO_DEPTH
#define FLIT_CYCLES TSP_C2C_LINK_CYCLES_PER_VECTOR

void tsp_links_free(tsp_chip *c)
{
    unsigned p;
    if (!c->links)
        return;
    for (p = 0; p < TSP_C2C_LINKS; p++)
        free(c->links[p].rx);
    free(c->links);
    c->links = NULL;
}

/* The chip's port array, created (every port unwired) on first use. */
static tsp_link *ports(tsp_chip *c)
{
    unsigned p;
    if (c->links)
        return c->links;
    if (!(c->links = calloc(TSP_C2C_LINKS, sizeof *c->links)))
        return NULL;
    for (p = 0; p < TSP_C2C_LINKS; p++)
        c->links[p].peer = -1;
    return c->links;
}

int tsp_link_set(tsp_machine *m, uint32_t chip_a, uint32_t port_a, uint32_t chip_b, uint32_t port_b,
                 uint32_t latency)
{
    tsp_chip *a, *b;
    tsp_link *la, *lb;
    if (!m || chip_a >= m->nchips || chip_b >= m->nchips || chip_a == chip_b || port_a >= TSP_C2C_LINKS ||
        port_b >= TSP_C2C_LINKS || latency == 0 || m->started)
        return TSP_E_ARG;
    if (!(a = tsp_chip_get(m, chip_a)) || !(b = tsp_chip_get(m, chip_b)) || !ports(a) || !ports(b))
        return TSP_E_NOMEM;
    la = &a->links[port_a];
    lb = &b->links[port_b];
    if (la->peer >= 0 || lb->peer >= 0)
        return TSP_E_ARG;  /* a port carries one link */
    la->peer = (int32_t)chip_b;
    la->peer_port = port_b;
    la->latency = latency;
    lb->peer = (int32_t)chip_a;
    lb->peer_port = port_a;
    lb->latency = latency;
    return TSP_OK;
}

static int uses_link(unsigned opcode)
{
    return opcode == TSP_OP_SEND || opcode == TSP_OP_RECEIVE || opcode == TSP_OP_TRANSMIT || opcode == TSP_OP_HAC;
}

static int wired(const tsp_chip *c, unsigned port)
{
    return c->links && c->links[port].peer >= 0;
}

int tsp_links_check(tsp_machine *m)
{
    uint32_t chip, slot, row;
    if (!m)
        return TSP_E_ARG;
    for (chip = 0; chip < m->nchips; chip++) {
        const tsp_chip *c = m->chips[chip];
        for (slot = 0; c && slot < TSP_NUM_QUEUES; slot++) {
            const tsp_queue *q = &c->q[slot];
            if (tsp_queue_unit(slot) != TSP_UNIT_C2C)
                continue;
            for (row = 0; row < q->nwords; row++) {
                tsp_insn in;
                tsp_decoded d;
                unsigned port;
                tsp_decode(q->words[2 * row], q->words[2 * row + 1], &d);
                in.d = &d;
                in.opcode = d.opcode;
                in.op = d.op;
                in.row = row;
                in.rep = 0;
                if (!uses_link(in.opcode))
                    continue;
                port = (unsigned)tsp_field(&in, TSP_F_link);
                if (!wired(c, port)) {
                    tsp_error_info w;
                    memset(&w, 0, sizeof w);
                    w.chip = (int32_t)chip;
                    w.slot = (int32_t)slot;
                    w.row = (int32_t)row;
                    w.slot2 = w.row2 = -1;
                    return tsp_fail_at(m, TSP_E_IMAGE, &w, "chip %u L%u has no link in this topology "
                                       "(%s uses it)", chip, port, in.op->name);
                }
            }
        }
    }
    return TSP_OK;
}

static tsp_link *link_of(tsp_ctx *cx, const tsp_insn *in, unsigned *port, int *rc)
{
    unsigned p = (unsigned)tsp_field(in, TSP_F_link);
    *port = p;
    *rc = TSP_OK;
    if (wired(cx->chip, p))
        return &cx->chip->links[p];
    *rc = tsp_fail(cx, in, TSP_E_IMAGE, "chip %u L%u has no link in this topology", cx->chip_id, p);
    return NULL;
}

/* Put one flit on the link: the bandwidth rule, then its arrival event. */
static int flit(tsp_ctx *cx, const tsp_insn *in, tsp_link *l, unsigned port, unsigned kind, const uint8_t *data)
{
    tsp_machine *m = cx->m;
    tsp_pending *p;
    /* Receivable on the peer from its first local cycle at or after global send time +
       this flit's latency (clock.c: both are the plain cycle counts without drift or jitter). */
    uint64_t arrive = tsp_global_of(m, cx->chip_id, cx->cycle) + tsp_flit_latency(m, cx->chip_id, port, l);
    uint64_t at = tsp_local_of(m, (uint32_t)l->peer, arrive), land;
    int rc;
    if (at <= cx->cycle)
        return tsp_fail(cx, in, TSP_E_STATE, "clock skew between chip %u (%lld cycles) and chip %d (%lld cycles) "
                        "exceeds the link latency: this engine keeps chips in lockstep on their local cycles and "
                        "cannot deliver a flit into chip %d's past (lower the drift or the run length)",
                        cx->chip_id, (long long)tsp_skew(m, cx->chip_id, cx->cycle), l->peer,
                        (long long)tsp_skew(m, (uint32_t)l->peer, cx->cycle), l->peer);
    land = at - 1;  /* enters the FIFO at the end of this cycle */
    if (cx->cycle < l->tx_free) {
        rc = tsp_hazard(cx, in, "link L%u of chip %u oversubscribed: previous vector still on the wire until "
                        "cycle %llu (a link carries one vector per %d cycles)", port, cx->chip_id,
                        (unsigned long long)(l->tx_free - 1), FLIT_CYCLES);
        if (rc != TSP_OK)
            return rc;
    }
    l->tx_free = cx->cycle + FLIT_CYCLES;
    l->sent++;
    if ((rc = tsp_events_push_flit(&m->events, land, m->seq++, &p)) != TSP_OK)
        return tsp_fail(cx, in, rc, "no memory for a flit in flight");
    p->chip = (uint32_t)l->peer;
    p->sid = (uint8_t)kind;
    p->pos = (uint8_t)l->peer_port;
    p->who.slot = cx->slot;
    p->who.row = in->row;
    p->who.cycle = cx->cycle;
    memcpy(p->data, data, TSP_VECTOR_BYTES);
    tsp_activity(m, land);
    return TSP_OK;
}

int tsp_c2c_arrive(tsp_machine *m, const tsp_event *ev)
{
    const tsp_pending *p = &m->events.pool[ev->idx];
    tsp_chip *c = m->chips[p->chip];
    tsp_link *l = &c->links[p->pos];
    uint64_t at = ev->cycle + 1;  /* receivable from this cycle on */
    tsp_error_info w;
    memset(&w, 0, sizeof w);
    w.chip = l->peer;  /* the sending instruction, so the diagnostic points at its line */
    w.cycle = at;
    w.slot = (int32_t)p->who.slot;
    w.row = (int32_t)p->who.row;
    w.slot2 = w.row2 = -1;
    if (p->sid == TSP_SID_C2C_NOTE) {
        uint64_t b = tsp_epoch_at_or_after(m, p->chip, at);
        int rc;
        c->sync_release = b;
        if ((rc = tsp_release_parked(m, p->chip, b)) != TSP_OK)
            return tsp_fail_at(m, rc, &w, "no memory for an event");
        return TSP_OK;
    }
    if (l->rx_n == DEPTH)
        return tsp_hazard_at(m, &w, "FIFO overflow on chip %u L%u: the vector sent at cycle %llu arrives at "
                             "cycle %llu while %d vectors wait unreceived (FIFO depth %d)", p->chip, p->pos,
                             (unsigned long long)p->who.cycle, (unsigned long long)at, DEPTH, DEPTH);
    if (!l->rx && !(l->rx = calloc(DEPTH, TSP_VECTOR_BYTES)))
        return tsp_fail_at(m, TSP_E_NOMEM, &w, "no memory for a receive FIFO");
    memcpy(l->rx[(l->rx_head + l->rx_n) % DEPTH], p->data, TSP_VECTOR_BYTES);
    l->rx_n++;
    return TSP_OK;
}

/* What is on the wire towards (chip, port): the count of items in flight (vectors and
   transmit notifications) and the cycle the next vector becomes receivable (TSP_NO_CYCLE
   if none).  Flits live as ordinary events, so this one scan serves both questions. */
static void in_flight(const tsp_machine *m, uint32_t chip, unsigned port, uint64_t *next_vector,
                      uint32_t *count)
{
    size_t i;
    *next_vector = TSP_NO_CYCLE;
    *count = 0;
    for (i = 0; i < m->events.n; i++) {
        const tsp_event *ev = &m->events.ev[i];
        const tsp_pending *p;
        if (!(ev->tie & TSP_TIE_WRITE))
            continue;
        p = &m->events.pool[ev->idx];
        if (p->sid < TSP_SID_C2C_VECTOR || p->chip != chip || p->pos != port)
            continue;
        (*count)++;
        if (p->sid == TSP_SID_C2C_VECTOR && ev->cycle + 1 < *next_vector)
            *next_vector = ev->cycle + 1;
    }
}

/* The cycle the next vector for (chip, port) becomes receivable, or TSP_NO_CYCLE. */
static uint64_t next_arrival(const tsp_machine *m, uint32_t chip, unsigned port)
{
    uint64_t next;
    uint32_t count;
    in_flight(m, chip, port, &next, &count);
    return next;
}

int tsp_exec_send(tsp_ctx *cx, const tsp_insn *in)
{
    unsigned port;
    int rc;
    tsp_link *l = link_of(cx, in, &port, &rc);
    const uint8_t *v;
    if (!l)
        return rc;
    if (!(v = tsp_in(cx, in, (unsigned)tsp_field(in, TSP_F_src), &rc)))
        return rc;
    return flit(cx, in, l, port, TSP_SID_C2C_VECTOR, v);
}

int tsp_exec_receive(tsp_ctx *cx, const tsp_insn *in)
{
    unsigned port;
    int rc;
    tsp_link *l = link_of(cx, in, &port, &rc);
    uint8_t v[TSP_VECTOR_BYTES];
    if (!l)
        return rc;
    if (l->rx_n == 0) {
        uint64_t next = next_arrival(cx->m, cx->chip_id, port);
        char when[64];
        if (next == TSP_NO_CYCLE)
            strcpy(when, "nothing in flight");
        else
            snprintf(when, sizeof when, "next vector arrives at cycle %llu", (unsigned long long)next);
        rc = tsp_hazard(cx, in, "receive on chip %u L%u: FIFO empty (%s)", cx->chip_id, port, when);
        if (rc != TSP_OK)
            return rc;
        memset(v, 0, sizeof v);
    } else {
        memcpy(v, l->rx[l->rx_head], TSP_VECTOR_BYTES);
        l->rx_head = (l->rx_head + 1) % DEPTH;
        l->rx_n--;
        l->received++;
    }
    return tsp_out(cx, in, (unsigned)tsp_field(in, TSP_F_dst), v);
}

int tsp_exec_transmit(tsp_ctx *cx, const tsp_insn *in)
{
    unsigned port;
    int rc;
    tsp_link *l = link_of(cx, in, &port, &rc);
    if (!l)
        return rc;
    cx->chip->transmits++;
    return flit(cx, in, l, port, TSP_SID_C2C_NOTE, tsp_zero_vector);
}

int tsp_exec_hac(tsp_ctx *cx, const tsp_insn *in)
{
    unsigned port;
    int rc;
    if (!link_of(cx, in, &port, &rc))
        return rc;
    cx->chip->hacs++;
    return TSP_OK;
}

int tsp_exec_sac(tsp_ctx *cx, const tsp_insn *in)
{
    cx->chip->sacs++;
    cx->chip->sac_offset = (uint64_t)tsp_field(in, TSP_F_offset);
    return TSP_OK;
}

uint64_t tsp_links_hash(const tsp_chip *c, uint64_t h)
{
    unsigned p, i;
    h = tsp_hash_u64(h, c->sync_release);
    h = tsp_hash_u64(h, c->transmits ^ (c->hacs << 20) ^ (c->sacs << 40));
    h = tsp_hash_u64(h, c->sac_offset);
    for (p = 0; c->links && p < TSP_C2C_LINKS; p++) {
        const tsp_link *l = &c->links[p];
        if (l->peer < 0)
            continue;
        h = tsp_hash_u64(h, ((uint64_t)p << 56) ^ ((uint64_t)(uint32_t)l->peer << 16) ^ l->peer_port);
        h = tsp_hash_u64(h, ((uint64_t)l->latency << 32) ^ l->rx_n);
        h = tsp_hash_u64(h, l->tx_free);
        h = tsp_hash_u64(h, l->sent ^ (l->received << 32));
        for (i = 0; i < l->rx_n; i++)
            h = tsp_hash_bytes(h, l->rx[(l->rx_head + i) % DEPTH], TSP_VECTOR_BYTES);
    }
    return h;
}

int tsp_link_info_get(const tsp_machine *m, uint32_t chip, uint32_t port, tsp_link_info *out)
{
    const tsp_chip *c;
    const tsp_link *l;
    if (!m || chip >= m->nchips || port >= TSP_C2C_LINKS || !out)
        return TSP_E_ARG;
    memset(out, 0, sizeof *out);
    out->peer_chip = -1;
    c = m->chips[chip];
    if (!c || !wired(c, port))
        return TSP_OK;
    l = &c->links[port];
    out->peer_chip = l->peer;
    out->peer_port = l->peer_port;
    out->latency = l->latency;
    out->tx_free = l->tx_free;
    out->fifo = l->rx_n;
    out->sent = l->sent;
    out->received = l->received;
    {
        uint64_t next;
        uint32_t count;
        in_flight(m, chip, port, &next, &count);
        out->in_flight = count;
    }
    return TSP_OK;
}

int tsp_memory_bytes(const tsp_machine *m, uint64_t *out)
{
    uint64_t n;
    uint32_t i, k;
    if (!m || !out)
        return TSP_E_ARG;
    n = sizeof *m + (uint64_t)m->nchips * sizeof *m->chips;
    n += m->events.cap * sizeof *m->events.ev + m->events.pool_cap * (sizeof *m->events.pool + sizeof(uint32_t));
    n += m->events.ring ? TSP_RING * sizeof *m->events.ring : 0;  /* bucket arrays: small, not counted */
    for (i = 0; i < m->nchips; i++) {
        const tsp_chip *c = m->chips[i];
        if (!c)
            continue;
        n += sizeof *c;
        for (k = 0; k < TSP_NUM_QUEUES; k++)
            n += (uint64_t)c->q[k].nwords * 16 + (c->q[k].dec ? sizeof *c->q[k].dec : 0);
        for (k = 0; k < TSP_MEM_SLICES; k++)
            n += c->mem[k] ? (uint64_t)TSP_MEM_WORDS * TSP_VECTOR_BYTES : 0;
        n += tsp_streams_bytes(c->streams);
        for (k = 0; k < TSP_MXM_PLANES; k++) {
            const tsp_mxm_plane *pl = c->mxm[k];
            unsigned a;
            if (!pl)
                continue;
            n += sizeof *pl;
            for (a = 0; a < TSP_MXM_ACC_SLOTS; a++)
                n += pl->acc[a] ? MXM_COLS * sizeof(uint32_t) : 0;
        }
        if (c->links) {
            n += TSP_C2C_LINKS * sizeof *c->links;
            for (k = 0; k < TSP_C2C_LINKS; k++)
                n += c->links[k].rx ? (uint64_t)DEPTH * TSP_VECTOR_BYTES : 0;
        }
    }
    *out = n;
    return TSP_OK;
}
