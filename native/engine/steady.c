/* Steady repeat runs: the queues inside a `repeat n, 1` re-issue without the
 * event queue.
 *
 * In a streaming kernel most issues are re-issues under `repeat n, 1`: the
 * event loop pops and pushes one event per re-issue.  Here the queues that
 * issue at a cycle t as such re-issues become the members of a run, and leave
 * the calendar.  From t on, cycle after cycle, each member re-issues straight
 * from its record, and every other event (any other queue's issue, a write
 * landing, a flit arriving) is taken from the calendar and run as the event
 * loop runs it, merged in between the members in (cycle, tie) order: exactly
 * the order in which the event loop would have popped them all.  The run ends
 * the cycle before a member reaches its last re-issue (the event loop runs
 * that one), at the run's cycle limit, or at an error; the members then go
 * back to the calendar at their next cycle.
 *
 * Every counter, queue field and calendar entry ends up as the event loop
 * would have left it, so results, the state hash and snapshots cannot tell
 * which of the two ran a cycle (tests/test_steady_runs.py and
 * tests/test_steady_property.py run programs both ways).  The instruction
 * semantics are the same functions either way.  A member's queue record is
 * left alone during the run: no other event can touch a queue in the middle
 * of a repeat (each queue has one event at a time, and the members' are out). */
#include <stdlib.h>

#include "engine.h"

/* After a cycle where no run was possible, the next try waits this long:
 * a failed check costs a look at every queue issuing in the cycle. */
#define RETRY_AFTER 8
/* A run needs this many members to be worth its set-up. */
#define MIN_MEMBERS 2

/* During a run a member's re-issue count lives in in.rep (and the cycle in
 * cx.cycle): the loop touches only this array, and settle() writes the queue
 * record back when the run ends. */
struct tsp_steady_member {
    tsp_queue *q;
    uint64_t tie;              /* (chip << 16) | slot: its place among a cycle's issues */
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

static int member_capable(const tsp_queue *q, uint64_t t)
{
    return q->state == TSP_Q_REPEAT && q->rep_d == 1 && q->dec && q->dec_row == q->rep_row &&
           q->next_cycle == t && q->rep_k < q->rep_n;  /* its last re-issue stays with the event loop */
}

/* The queues issuing at t as `repeat n, 1` re-issues from their decode cache
 * become members (in tie order: the merge of the bucket's two runs); every
 * issue of t leaves the calendar, and the others go straight back.  Returns
 * the number of members (0: too few, or no memory for the member array;
 * UINT32_MAX: no memory to put the others back); *end: the earliest last
 * re-issue among them. */
static uint32_t gather(tsp_machine *m, uint64_t t, const tsp_event_runs *runs, uint64_t *end)
{
    uint32_t i, ia = 0, ib = 0, n = runs->na + runs->nb, k = 0, nothers = 0;
    if (n > m->steady_cap) {
        struct tsp_steady_member *grown = realloc(m->steady, n * sizeof *grown);
        if (!grown)
            return 0;  /* the event loop needs no memory for it */
        m->steady = grown;
        m->steady_cap = n;
    }
    /* a first pass counts, so that a bucket with too few members is left as it is */
    for (i = 0; i < n; i++) {
        const tsp_event *ev = ib == runs->nb || (ia < runs->na && runs->a[ia].tie < runs->b[ib].tie)
                              ? &runs->a[ia++] : &runs->b[ib++];
        uint32_t chip = (uint32_t)(ev->tie >> 16), slot = (uint32_t)(ev->tie & 0xFFFF);
        if (member_capable(&m->chips[chip]->q[slot], t))
            m->steady[k++].tie = ev->tie;
        else
            m->steady[n - 1 - nothers++].tie = ev->tie;  /* the others fill the array from its end */
    }
    if (k < MIN_MEMBERS)
        return 0;
    tsp_events_take_issues(&m->events, t);
    for (i = 0; i < nothers; i++) {  /* back at t, in tie order: appends */
        uint64_t tie = m->steady[n - 1 - i].tie;
        if (tsp_events_push_issue(&m->events, t, (uint32_t)(tie >> 16), (uint32_t)(tie & 0xFFFF)) != TSP_OK)
            return UINT32_MAX;  /* no memory for the calendar: the run fails */
    }
    for (i = 0; i < k; i++) {
        struct tsp_steady_member *mb = &m->steady[i];
        uint32_t chip = (uint32_t)(mb->tie >> 16), slot = (uint32_t)(mb->tie & 0xFFFF);
        tsp_queue *q = &m->chips[chip]->q[slot];
        uint64_t last = q->rep_base + q->rep_n;
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
    return k;
}

/* Run the calendar's events due before (cycle, tie) - the event loop's order -
 * refreshing *head.  *joins is set when an issue left its queue able to be a
 * member from the next cycle on (it began a `repeat n, 1`): the run then ends
 * with this cycle, so that the next one takes it in.  Nonzero rc: an event
 * failed (the machine's fault). */
static int events_before(tsp_machine *m, uint64_t cycle, uint64_t tie, tsp_event *head, int *has, int *joins)
{
    tsp_event ev;
    int rc;
    while (*has && (head->cycle < cycle || (head->cycle == cycle && head->tie < tie))) {
        (void)tsp_events_pop_before(&m->events, UINT64_MAX, &ev);  /* the head itself */
        if ((rc = tsp_dispatch(m, &ev)) != TSP_OK)
            return rc;
        if (!(ev.tie & TSP_TIE_WRITE) &&
            member_capable(&m->chips[ev.tie >> 16]->q[ev.tie & 0xFFFF], ev.cycle + 1))
            *joins = 1;
        *has = tsp_events_peek(&m->events, head);
    }
    return TSP_OK;
}

int tsp_steady_run(tsp_machine *m, uint64_t limit, int *ran)
{
    tsp_events *e = &m->events;
    tsp_event_runs runs;
    tsp_event head;
    struct tsp_steady_member *mb;
    uint64_t t, end = limit, c;
    uint32_t n, i;
    size_t count;
    int has, rc, joins = 0;
    *ran = 0;
    if (m->steady_off || m->cycle < m->steady_after || !tsp_events_issue_cycle(e, &t, &runs) || t >= limit)
        return TSP_OK;
    if (!(n = gather(m, t, &runs, &end))) {
        m->steady_after = t + RETRY_AFTER;
        return TSP_OK;
    }
    if (n == UINT32_MAX)
        return TSP_E_NOMEM;
    *ran = 1;
    mb = m->steady;
    if (end < t + 1)  /* cannot happen (a member has a re-issue after t); never loop on it */
        end = t + 1;
    has = tsp_events_peek(e, &head);
    count = tsp_events_count(e);
    for (c = t; c < end; c++) {
        e->cur = c;  /* every event before c has run */
        for (i = 0; i < n; i++) {
            if (has && head.cycle <= c && (rc = events_before(m, c, mb[i].tie, &head, &has, &joins)) != TSP_OK) {
                settle(m, mb, n, n);
                return requeue(m, mb, 0, n) != TSP_OK ? TSP_E_NOMEM : rc;
            }
            m->cycle = c;
            mb[i].cx.cycle = c;
            if ((rc = mb[i].in.op->exec(&mb[i].cx, &mb[i].in)) != TSP_OK) {
                /* as reissue(): the failing queue keeps its state and has no event */
                int rq;
                settle(m, mb, n, i);
                rq = requeue(m, mb, 0, i);
                return rq != TSP_OK ? rq : (rq = requeue(m, mb, i + 1, n)) != TSP_OK ? rq : rc;
            }
            mb[i].in.rep++;
            if (TSP_UNLIKELY(tsp_events_count(e) != count)) {  /* the instruction added an event */
                has = tsp_events_peek(e, &head);
                count = tsp_events_count(e);
            }
        }
        /* the rest of cycle c: issues after the last member, then its writes */
        if (has && head.cycle <= c && (rc = events_before(m, c, UINT64_MAX, &head, &has, &joins)) != TSP_OK) {
            settle(m, mb, n, n);
            return requeue(m, mb, 0, n) != TSP_OK ? TSP_E_NOMEM : rc;
        }
        count = tsp_events_count(e);
        if (joins)
            break;  /* a queue began a `repeat n, 1`: gather again from the next cycle */
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
