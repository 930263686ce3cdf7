/* Steady repeat runs: many cycles of re-issues without the event queue.
 *
 * In a streaming kernel most cycles look alike: the same queues, each inside
 * a `repeat n, 1`, re-issue once and nothing else happens.  The event loop
 * pops and pushes one event per re-issue for that; here such cycles run
 * without it.  The queues re-issue in (chip, slot) order, the order their
 * events would have come out in, cycle after cycle, until the cycle before
 * one of them reaches its last re-issue, another event is due, or the run's
 * cycle limit.  An instruction that adds an event (a clash report, a flit)
 * ends the run at once: the queues still to re-issue in that cycle go back
 * to the calendar at it, the others at the next cycle, and the event loop
 * carries on from exactly where it would have been.
 *
 * Every counter, queue field and calendar entry ends up as the event loop
 * would have left it, so results, the state hash and snapshots cannot tell
 * which of the two ran a cycle (tests/test_steady_runs.py runs programs both
 * ways).  The instruction semantics are the same functions either way. */
#include <stdlib.h>

#include "engine.h"

/* After a cycle where no run was possible, the next try waits this long:
 * a failed check costs a look at every queue issuing in the cycle. */
#define RETRY_AFTER 8

/* During a run a member's re-issue count lives in in.rep (and the cycle in
 * cx.cycle): the loop touches only this array, and settle() writes the queue
 * record back when the run ends. */
struct tsp_steady_member {
    tsp_queue *q;
    uint64_t k0;               /* q->rep_k when the run began */
    tsp_ctx cx;
    tsp_insn in;
};

/* The queue records and counters as the event loop would have left them.
 * `failed`: the member whose instruction just failed (it executed, but its
 * re-issue count does not move on; as reissue()), or n for none. */
static void settle(tsp_machine *m, struct tsp_steady_member *mb, uint32_t n, uint32_t failed)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        tsp_queue *q = mb[i].q;
        uint64_t done = mb[i].in.rep - mb[i].k0, tried = done + (i == failed);
        q->rep_k = mb[i].in.rep;
        q->next_cycle = q->rep_base + q->rep_k;  /* delay 1 */
        q->executed += tried;
        m->stats.events += tried;
        m->stats.executed += tried;
        m->steady_reissues += done;
    }
}

/* The members from `from` on go back to the calendar at their next cycle. */
static int requeue(tsp_machine *m, const struct tsp_steady_member *mb, uint32_t from, uint32_t n)
{
    uint32_t i;
    int rc;
    for (i = from; i < n; i++)
        if ((rc = tsp_events_push_issue(&m->events, mb[i].q->next_cycle, mb[i].cx.chip_id, mb[i].cx.slot)) != TSP_OK)
            return rc;
    return TSP_OK;
}

/* The queues issuing at t, in tie order (the merge of the bucket's two runs),
 * as run members; 0 when one of them is not a plain `repeat n, 1` re-issue
 * from its decode cache.  *end: the earliest last re-issue among them (which
 * the event loop runs). */
static int gather(tsp_machine *m, uint64_t t, const tsp_event_runs *runs, uint64_t *end)
{
    uint32_t i, ia = 0, ib = 0, n = runs->na + runs->nb;
    if (n > m->steady_cap) {
        struct tsp_steady_member *grown = realloc(m->steady, n * sizeof *grown);
        if (!grown)
            return 0;  /* the event loop needs no memory for it */
        m->steady = grown;
        m->steady_cap = n;
    }
    for (i = 0; i < n; i++) {
        const tsp_event *ev = ib == runs->nb || (ia < runs->na && runs->a[ia].tie < runs->b[ib].tie)
                              ? &runs->a[ia++] : &runs->b[ib++];
        uint32_t chip = (uint32_t)(ev->tie >> 16), slot = (uint32_t)(ev->tie & 0xFFFF);
        struct tsp_steady_member *mb = &m->steady[i];
        tsp_queue *q = &m->chips[chip]->q[slot];
        uint64_t last;
        if (q->state != TSP_Q_REPEAT || q->rep_d != 1 || !q->dec || q->dec_row != q->rep_row || q->next_cycle != t)
            return 0;
        last = q->rep_base + q->rep_n;
        if (last < *end)
            *end = last;
        mb->q = q;
        mb->k0 = q->rep_k;
        mb->in.rep = q->rep_k;
        mb->cx.m = m;
        mb->cx.chip = m->chips[chip];
        mb->cx.chip_id = chip;
        mb->cx.slot = slot;
        mb->cx.pos = tsp_queue_pos(slot);
        mb->cx.slice = tsp_queue_slice(slot);
        mb->in.d = q->dec;
        mb->in.op = q->dec->op;
        mb->in.opcode = q->dec->opcode;
        mb->in.row = q->rep_row;
    }
    return 1;
}

int tsp_steady_run(tsp_machine *m, uint64_t limit, int *ran)
{
    tsp_events *e = &m->events;
    tsp_event_runs runs;
    struct tsp_steady_member *mb;
    uint64_t t, end = limit, other, c;
    uint32_t n, i;
    *ran = 0;
    if (m->steady_off || m->cycle < m->steady_after || !tsp_events_issue_cycle(e, &t, &runs) || t >= limit)
        return TSP_OK;
    n = runs.na + runs.nb;
    if (!gather(m, t, &runs, &end)) {
        m->steady_after = t + RETRY_AFTER;
        return TSP_OK;
    }
    tsp_events_take_issues(e, t);
    other = tsp_events_first_cycle(e);  /* nothing else happens before it */
    if (other < end)
        end = other;
    if (end < t + 2) {  /* no gain: hand the cycle back */
        m->steady_after = t + RETRY_AFTER;
        for (i = 0; i < n; i++)
            m->steady[i].q->next_cycle = t;
        return requeue(m, m->steady, 0, n);
    }
    *ran = 1;
    mb = m->steady;
    for (c = t; c < end; c++) {
        size_t events = tsp_events_count(e);
        e->cur = c;
        m->cycle = c;
        for (i = 0; i < n; i++) {
            int rc;
            mb[i].cx.cycle = c;
            if ((rc = mb[i].in.op->exec(&mb[i].cx, &mb[i].in)) != TSP_OK) {
                /* as reissue(): the failing queue keeps its state and has no event */
                int rq;
                settle(m, mb, n, i);
                rq = requeue(m, mb, 0, i);
                return rq != TSP_OK ? rq : (rq = requeue(m, mb, i + 1, n)) != TSP_OK ? rq : rc;
            }
            mb[i].in.rep++;
            if (TSP_UNLIKELY(tsp_events_count(e) != events)) {
                settle(m, mb, n, n);
                return requeue(m, mb, 0, n);  /* the event loop goes on from here */
            }
        }
    }
    settle(m, mb, n, n);
    return requeue(m, mb, 0, n);
}

int tsp_set_steady_runs(tsp_machine *m, int enable)
{
    if (!m)
        return TSP_E_ARG;
    m->steady_off = !enable;
    return TSP_OK;
}

int tsp_steady_reissues(const tsp_machine *m, uint64_t *out)
{
    if (!m || !out)
        return TSP_E_ARG;
    *out = m->steady_reissues;
    return TSP_OK;
}
