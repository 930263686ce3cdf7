/* How instruction semantics read and write streams, and how a pending write
 * lands.  An instruction issued at cycle t at position i reads the values
 * arriving at i in cycle t; its result leaves i at t + d_func, so position j
 * sees it at t + d_func + |j - i|.  The result goes into the stream store at
 * once, tagged with that cycle (streams.c explains why no read sees it early);
 * only a clash of two writes needs an event, to report the hazard at the cycle
 * and in the order the second write lands ("reads before writes", then seq). */
#include <string.h>

#include "engine.h"

const uint8_t tsp_zero_vector[TSP_VECTOR_BYTES];

static TSP_COLD const uint8_t *no_value(tsp_ctx *cx, const tsp_insn *in, unsigned sid, int *rc)
{
    char name[8];
    *rc = tsp_hazard(cx, in, "read of %s at position %u, cycle %llu: no value there",
                     tsp_sid_name(sid, name), cx->pos, (unsigned long long)cx->cycle);
    return *rc == TSP_OK ? tsp_zero_vector : NULL;  /* warn mode reads zeros */
}

const uint8_t *tsp_in(tsp_ctx *cx, const tsp_insn *in, unsigned sid, int *rc)
{
    const uint8_t *v = tsp_streams_read(cx->chip->streams, sid, cx->pos, cx->cycle);
    *rc = TSP_OK;
    if (TSP_UNLIKELY(!v))
        return no_value(cx, in, sid, rc);
    return v;
}

static TSP_COLD int past_last(tsp_ctx *cx, const tsp_insn *in, unsigned n, unsigned v)
{
    char name[8];
    return tsp_fail(cx, in, TSP_E_IMAGE, "stream group of %u from %s runs past S%u", n, tsp_sid_name(v, name),
                    TSP_STREAMS - 1);
}

int tsp_group(tsp_ctx *cx, const tsp_insn *in, int field, unsigned n, unsigned *base)
{
    unsigned v = (unsigned)tsp_field(in, field);
    if (TSP_UNLIKELY((v & TSP_STREAM_NUMBER_MASK) + n > TSP_STREAMS))
        return past_last(cx, in, n, v);
    *base = v;
    return TSP_OK;
}

/* A pending event: the landing of a write (sid < TSP_SIDS) or, for a direct
 * write, the report of its clash (TSP_SID_CLASH; data holds the stream id and
 * the writer it replaced). */
static int pending(tsp_ctx *cx, const tsp_insn *in, uint64_t land, unsigned sid, tsp_pending **out)
{
    tsp_machine *m = cx->m;
    tsp_pending *p = NULL;
    int rc = tsp_events_push_write(&m->events, land, m->seq++, &p);
    if (rc != TSP_OK)
        return tsp_fail(cx, in, rc, "no memory for a stream write");
    p->chip = cx->chip_id;
    p->sid = (uint8_t)sid;
    p->pos = (uint8_t)cx->pos;
    p->who.slot = cx->slot;
    p->who.row = in->row;
    p->who.cycle = cx->cycle;
    *out = p;
    return TSP_OK;
}

/* A result landing later than the stream store looks ahead (none in this ISA
 * today): a pending write event carries it. */
static TSP_COLD int out_pending(tsp_ctx *cx, const tsp_insn *in, unsigned sid, uint64_t land, int row_mode,
                                const uint8_t *row, uint8_t **buf)
{
    tsp_pending *p = NULL;
    int rc = pending(cx, in, land, sid, &p);
    if (rc != TSP_OK)
        return rc;
    if (row_mode)
        tsp_copy_vector(p->data, row ? row : tsp_zero_vector);
    else
        *buf = p->data;
    return TSP_OK;
}

/* Two writes leave one stream position in one cycle: the clash is reported
 * when the second one lands, in the order a pending write would have. */
static TSP_COLD int out_clash(tsp_ctx *cx, const tsp_insn *in, unsigned sid, uint64_t land, const tsp_writer *other)
{
    tsp_pending *p = NULL;
    int rc = pending(cx, in, land, TSP_SID_CLASH, &p);
    if (rc != TSP_OK || !p)
        return rc;
    memset(p->data, 0, TSP_VECTOR_BYTES);
    p->data[0] = (uint8_t)sid;
    memcpy(p->data + 8, other, sizeof *other);
    return TSP_OK;
}

static TSP_COLD int out_nomem(tsp_ctx *cx, const tsp_insn *in, const char *what)
{
    return tsp_fail(cx, in, TSP_E_NOMEM, "no memory for %s of chip %u", what, cx->chip_id);
}

/* Store an instruction's result for sid: a copy of `row` (MEM row `addr` of the
 * queue's slice, or zeros when row is NULL) when row_mode, else into the
 * buffer returned in *buf. */
static inline int out(tsp_ctx *cx, const tsp_insn *in, unsigned sid, int row_mode, const uint8_t *row,
                      uint32_t addr, uint8_t **buf)
{
    tsp_machine *m = cx->m;
    tsp_chip *c = cx->chip;
    tsp_writer who, other;
    uint64_t land = cx->cycle + in->op->latency;
    int rc;
    tsp_activity(m, land);
    if (TSP_UNLIKELY(in->op->latency > (uint32_t)TSP_STREAMS_AHEAD))
        return out_pending(cx, in, sid, land, row_mode, row, buf);
    if (TSP_UNLIKELY(!c->streams) && !(c->streams = tsp_streams_new()))
        return out_nomem(cx, in, "the streams");
    who.slot = cx->slot;
    who.row = in->row;
    who.cycle = cx->cycle;
    if (row_mode)
        rc = tsp_streams_put_row(c->streams, cx->cycle, sid, cx->pos, land, row ? row : tsp_zero_vector,
                                 row ? cx->slice : -1, addr, &who, &other);
    else
        *buf = tsp_streams_put(c->streams, cx->cycle, sid, cx->pos, land, &who, &other, &rc);
    if (TSP_UNLIKELY(rc < 0))
        return out_nomem(cx, in, "a stream write");
    if (TSP_UNLIKELY(rc != 0))
        return out_clash(cx, in, sid, land, &other);
    m->stats.stream_writes++;  /* tsp_stats_get leaves out those not landed yet */
    m->seq++;  /* as a pending write would have: seq orders the writes still pending */
    return TSP_OK;
}

int tsp_out_buf(tsp_ctx *cx, const tsp_insn *in, unsigned sid, uint8_t **buf)
{
    return out(cx, in, sid, 0, NULL, 0, buf);
}

int tsp_out_row(tsp_ctx *cx, const tsp_insn *in, unsigned sid, const uint8_t *row, uint32_t addr)
{
    return out(cx, in, sid, 1, row, addr, NULL);
}

int tsp_out(tsp_ctx *cx, const tsp_insn *in, unsigned sid, const uint8_t *data)
{
    uint8_t *buf = NULL;
    int rc = out(cx, in, sid, 0, NULL, 0, &buf);
    if (rc == TSP_OK && buf)
        tsp_copy_vector(buf, data);
    return rc;
}

static const char *writer_insn(const tsp_chip *c, const tsp_writer *w)
{
    const tsp_queue *q = &c->q[w->slot];
    const tsp_opinfo *op;
    if (w->row >= q->nwords)
        return "?";
    op = tsp_op((unsigned)(q->words[2 * w->row] & 0xFF));
    return op ? op->name : "?";
}

int tsp_land_write(tsp_machine *m, const tsp_event *ev)
{
    const tsp_pending *p = &m->events.pool[ev->idx];
    tsp_chip *c = m->chips[p->chip];
    tsp_writer other;
    tsp_error_info w;
    unsigned sid = p->sid;
    int clash;
    char name[8];
    if (p->sid >= TSP_SID_C2C_VECTOR)
        return tsp_c2c_arrive(m, ev);
    memset(&w, 0, sizeof w);
    w.chip = (int32_t)p->chip;
    w.cycle = ev->cycle;
    w.slot = (int32_t)p->who.slot;
    w.row = (int32_t)p->who.row;
    w.slot2 = w.row2 = -1;
    if (sid == TSP_SID_CLASH) {  /* a direct write that replaced another (tsp_out) */
        sid = p->data[0];
        memcpy(&other, p->data + 8, sizeof other);
        m->stats.stream_writes++;  /* counted when it lands, as it replaced a stored write */
        clash = 1;
    } else {
        if (!c->streams && !(c->streams = tsp_streams_new()))
            return tsp_fail_at(m, TSP_E_NOMEM, &w, "no memory for the streams of chip %u", p->chip);
        m->stats.stream_writes++;
        clash = tsp_streams_write_now(c->streams, ev->cycle, sid, p->pos, ev->cycle, p->data, &p->who, &other);
        if (clash < 0)
            return tsp_fail_at(m, TSP_E_NOMEM, &w, "no memory for a stream write");
    }
    if (clash) {
        w.slot2 = (int32_t)other.slot;
        w.row2 = (int32_t)other.row;
        return tsp_hazard_at(m, &w,
                             "two writes to %s leaving position %u at cycle %llu: "
                             "%s `%s` row %u (issued at cycle %llu) and %s `%s` row %u (issued at cycle %llu)",
                             tsp_sid_name(sid, name), p->pos, (unsigned long long)ev->cycle,
                             tsp_queue_name(other.slot), writer_insn(c, &other), other.row,
                             (unsigned long long)other.cycle, tsp_queue_name(p->who.slot),
                             writer_insn(c, &p->who), p->who.row, (unsigned long long)p->who.cycle);
    }
    return TSP_OK;
}
