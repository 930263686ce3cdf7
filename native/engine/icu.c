/* Instruction queues and the ICU instructions.
 *
 * A queue issues at most one word per cycle.  How long a word occupies it is
 * the instruction's `control` in isa/instructions/icu.toml, the same rules as
 * the assembler's scheduler (tspasm/asm/schedule.py):
 *   none     the issue cycle only
 *   wait     nop n: n cycles
 *   repeat   repeat n, d issued the cycle after instruction I (issued at c)
 *            re-issues I at c + d, c + 2d, ... c + n*d, stepping its fields
 *   park     sync: until a notify on the chip; a notify at cycle t releases
 *            queues that park before t + notify_latency at t + notify_latency
 *   release  notify: as none, and releases the parked queues
 *   epoch    deskew: until the next HAC epoch boundary (a multiple of
 *            hac_epoch in global time, clock.c)
 *   delay    runtime_deskew t: t cycles corrected by the clock skew gained
 *            since the queue last lined up with the HACs (clock.c)
 * Each queue has at most one event in the heap: its next issue or re-issue. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define NOTIFY_LATENCY TSP_SYNC_NOTIFY_LATENCY

/* Decode word `row` of the queue into *d: into the queue's cache when it is a
 * unit instruction (a following repeat re-issues it from there), else into
 * the caller's record. */
static const tsp_decoded *decode_row(tsp_queue *q, uint32_t row, tsp_decoded *local)
{
    uint64_t lo = q->words[2 * row], hi = q->words[2 * row + 1];
    tsp_decoded *d = local;
    /* The cache is allocated by the queue's first unit instruction, so a chip that only
       ends a link (or a queue that only waits) does not carry one; without memory for
       it, repeats decode again each time. */
    if (tsp_op((unsigned)(lo & 0xFF))->units != TSP_UNIT_ALL && (q->dec || (q->dec = malloc(sizeof *q->dec)))) {
        d = q->dec;
        q->dec_row = row;
    }
    tsp_decode(lo, hi, d);  /* opcode validated when the queue was loaded */
    return d;
}

static tsp_insn insn_of(const tsp_decoded *d, uint32_t row, uint64_t rep)
{
    tsp_insn in;
    in.d = d;
    in.op = d->op;
    in.opcode = d->opcode;
    in.row = row;
    in.rep = rep;
    return in;
}

static int execute(tsp_machine *m, uint32_t chip, uint32_t slot, uint64_t t, const tsp_insn *in)
{
    tsp_ctx cx;
    cx.m = m;
    cx.chip = m->chips[chip];
    cx.chip_id = chip;
    cx.slot = slot;
    cx.pos = tsp_queue_pos(slot);
    cx.slice = tsp_queue_slice(slot);
    cx.cycle = t;
    cx.chip->q[slot].executed++;
    m->stats.executed++;
    return in->op->exec(&cx, in);
}

/* The queue's next word issues at `cycle`, if it has one. */
static int continue_at(tsp_machine *m, uint32_t chip, uint32_t slot, tsp_queue *q, uint64_t cycle)
{
    if (q->next >= q->nwords) {
        q->state = TSP_Q_DONE;
        return TSP_OK;
    }
    q->state = TSP_Q_READY;
    q->next_cycle = cycle;
    return tsp_events_push_issue(&m->events, cycle, chip, slot);
}

static int repeat_step(tsp_machine *m, uint32_t chip, uint32_t slot, tsp_queue *q)
{
    q->rep_k++;
    if (q->rep_k <= q->rep_n) {
        q->state = TSP_Q_REPEAT;
        q->next_cycle = q->rep_base + q->rep_k * q->rep_d;
        return tsp_events_push_issue(&m->events, q->next_cycle, chip, slot);
    }
    return continue_at(m, chip, slot, q, q->rep_base + q->rep_n * q->rep_d + 1);
}

/* A re-issue whose word is not in the queue's decode cache (no memory for one). */
static TSP_COLD int reissue_uncached(tsp_machine *m, uint32_t chip, uint32_t slot, tsp_queue *q, uint64_t t)
{
    tsp_decoded local;
    tsp_insn in = insn_of(decode_row(q, q->rep_row, &local), q->rep_row, q->rep_k);
    int rc = execute(m, chip, slot, t, &in);
    return rc != TSP_OK ? rc : repeat_step(m, chip, slot, q);
}

static int reissue(tsp_machine *m, uint32_t chip, uint32_t slot, tsp_queue *q, uint64_t t)
{
    tsp_insn in;
    int rc;
    if (TSP_UNLIKELY(!q->dec || q->dec_row != q->rep_row))
        return reissue_uncached(m, chip, slot, q, t);
    in = insn_of(q->dec, q->rep_row, q->rep_k);
    rc = execute(m, chip, slot, t, &in);
    return rc != TSP_OK ? rc : repeat_step(m, chip, slot, q);
}

static int start_repeat(tsp_machine *m, uint32_t chip, uint32_t slot, tsp_queue *q, const tsp_insn *in,
                        uint64_t t)
{
    tsp_error_info w;
    uint64_t n = (uint64_t)tsp_field(in, TSP_F_count), d = (uint64_t)tsp_field(in, TSP_F_delay);
    memset(&w, 0, sizeof w);
    w.chip = (int32_t)chip;
    w.cycle = t;
    w.slot = (int32_t)slot;
    w.row = (int32_t)in->row;
    w.slot2 = w.row2 = -1;
    if (q->prev_row < 0 || !q->prev_unit || q->prev_cycle + 1 != t)
        return tsp_fail_at(m, TSP_E_IMAGE, &w, "repeat must issue the cycle after the unit instruction it repeats");
    if (n == 0 || d == 0)
        return tsp_fail_at(m, TSP_E_IMAGE, &w, "repeat %llu, %llu: count and delay must be at least 1",
                           (unsigned long long)n, (unsigned long long)d);
    q->rep_row = (uint32_t)q->prev_row;
    q->rep_base = q->prev_cycle;
    q->rep_n = n;
    q->rep_d = d;
    q->rep_k = 1;
    q->busy_until = q->rep_base + n * d;
    tsp_activity(m, q->busy_until);
    q->prev_row = in->row;   /* a repeat is not itself repeatable */
    q->prev_unit = 0;
    q->prev_cycle = t;
    if (q->rep_base + d == t)  /* delay 1: the first re-issue is this very cycle */
        return reissue(m, chip, slot, q, t);
    q->state = TSP_Q_REPEAT;
    q->next_cycle = q->rep_base + d;
    return tsp_events_push_issue(&m->events, q->next_cycle, chip, slot);
}

/* The release cycle for a sync issued at t by a notify already seen, if any. */
static uint64_t live_notify(tsp_chip *c, uint64_t t)
{
    while (c->nnotify && c->notify[0] + NOTIFY_LATENCY <= t) {
        memmove(c->notify, c->notify + 1, (c->nnotify - 1) * sizeof c->notify[0]);
        c->nnotify--;
    }
    return c->nnotify ? c->notify[0] + NOTIFY_LATENCY : TSP_NO_CYCLE;
}

static int issue(tsp_machine *m, uint32_t chip, uint32_t slot, tsp_queue *q, uint64_t t)
{
    tsp_chip *c = m->chips[chip];
    tsp_decoded local;
    tsp_insn in = insn_of(decode_row(q, q->next, &local), q->next, 0);
    uint64_t next = t + 1, n;
    int rc = TSP_OK;
    q->next++;
    q->issued++;
    m->stats.issued++;
    switch (in.op->control) {
    case TSP_CONTROL_REPEAT:
        return start_repeat(m, chip, slot, q, &in, t);
    case TSP_CONTROL_WAIT:
        n = (uint64_t)tsp_field(&in, TSP_F_count);
        next = t + (n ? n : 1);
        break;
    case TSP_CONTROL_DELAY: {
        /* n plus the skew gained since the queue last lined up with the HACs (clock.c) */
        int64_t want = (int64_t)(uint64_t)tsp_field(&in, TSP_F_cycles), wait;
        want = want ? want : 1;
        wait = want + tsp_skew(m, chip, t) - q->sync_skew;
        wait = wait < 1 ? 1 : wait;
        q->sync_skew += wait - want;
        next = t + (uint64_t)wait;
        break;
    }
    case TSP_CONTROL_EPOCH:
        next = tsp_next_epoch(m, chip, t);
        q->sync_skew = tsp_skew(m, chip, next);
        break;
    default:
        break;
    }
    rc = execute(m, chip, slot, t, &in);
    if (rc != TSP_OK)
        return rc;
    q->prev_row = in.row;
    q->prev_cycle = t;
    q->prev_unit = in.op->units != TSP_UNIT_ALL;
    if (in.op->control == TSP_CONTROL_PARK) {
        next = live_notify(c, t);
        if (c->sync_release != TSP_NO_CYCLE && c->sync_release > t && c->sync_release < next) {
            next = c->sync_release;  /* a transmit notification already arrived (c2c.c) */
            q->sync_skew = tsp_skew(m, chip, next);  /* released on an epoch boundary */
        }
        if (next == TSP_NO_CYCLE) {
            q->state = TSP_Q_PARKED;
            q->busy_until = t;
            c->parked++;
            tsp_activity(m, t);
            return TSP_OK;
        }
    }
    q->busy_until = next - 1;
    tsp_activity(m, q->busy_until);
    return continue_at(m, chip, slot, q, next);
}

int tsp_queue_event(tsp_machine *m, uint32_t chip, uint32_t slot, uint64_t t)
{
    tsp_queue *q = &m->chips[chip]->q[slot];
    if (q->state == TSP_Q_REPEAT)
        return reissue(m, chip, slot, q, t);
    return issue(m, chip, slot, q, t);
}

/* ---- the ICU instructions' own effects (timing is above) ---- */

int tsp_exec_nop(tsp_ctx *cx, const tsp_insn *in) { (void)cx; (void)in; return TSP_OK; }
int tsp_exec_repeat(tsp_ctx *cx, const tsp_insn *in) { (void)cx; (void)in; return TSP_OK; }
int tsp_exec_sync(tsp_ctx *cx, const tsp_insn *in) { (void)cx; (void)in; return TSP_OK; }
int tsp_exec_deskew(tsp_ctx *cx, const tsp_insn *in) { (void)cx; (void)in; return TSP_OK; }
int tsp_exec_runtime_deskew(tsp_ctx *cx, const tsp_insn *in) { (void)cx; (void)in; return TSP_OK; }

int tsp_exec_config(tsp_ctx *cx, const tsp_insn *in)
{
    cx->chip->config_mask = (uint64_t)tsp_field(in, TSP_F_mask);
    return TSP_OK;
}

int tsp_exec_ifetch(tsp_ctx *cx, const tsp_insn *in)
{
    cx->chip->ifetch_words += (uint64_t)tsp_field(in, TSP_F_count);
    return TSP_OK;
}

int tsp_release_parked(tsp_machine *m, uint32_t chip, uint64_t at)
{
    tsp_chip *c = m->chips[chip];
    unsigned slot;
    int rc;
    for (slot = 0; c->parked && slot < TSP_NUM_QUEUES; slot++) {
        tsp_queue *q = &c->q[slot];
        if (q->state != TSP_Q_PARKED)
            continue;
        c->parked--;
        q->busy_until = at - 1;
        q->sync_skew = tsp_skew(m, chip, at);  /* a transmit releases on an epoch boundary */
        tsp_activity(m, q->busy_until);
        if ((rc = continue_at(m, chip, slot, q, at)) != TSP_OK)
            return rc;
    }
    return TSP_OK;
}

int tsp_exec_notify(tsp_ctx *cx, const tsp_insn *in)
{
    tsp_chip *c = cx->chip;
    uint64_t release = cx->cycle + NOTIFY_LATENCY;
    unsigned slot;
    int rc;
    (void)in;
    c->notifies++;
    (void)live_notify(c, cx->cycle);  /* drop notifies that can no longer release anything */
    if (!c->nnotify || c->notify[c->nnotify - 1] != cx->cycle)
        c->notify[c->nnotify++] = cx->cycle;
    for (slot = 0; c->parked && slot < TSP_NUM_QUEUES; slot++) {
        tsp_queue *q = &c->q[slot];
        if (q->state != TSP_Q_PARKED)
            continue;
        c->parked--;
        q->busy_until = release - 1;
        tsp_activity(cx->m, q->busy_until);
        if ((rc = continue_at(cx->m, cx->chip_id, slot, q, release)) != TSP_OK)
            return tsp_fail(cx, in, rc, "no memory for an event");
    }
    return TSP_OK;
}
