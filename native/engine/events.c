/* The event queue: time advances by jumping to the next cycle where a queue
 * acts or a pending stream write lands, so idle cycles cost nothing.
 *
 * Events are ordered by (cycle, tie).  The tie puts every queue issue of a
 * cycle (whose reads see the streams as they are) before every stream write of
 * that cycle: "within one cycle, reads happen before writes".  Issues are
 * ordered by (chip, slot) and writes by a global sequence number, so runs are
 * deterministic.  Pending writes carry 320 bytes each and live in a pool with
 * a free list, so the queue moves only small records.  (Ordinary stream writes
 * no longer come here - stream_io.c stores them directly - only C2C flits,
 * clash reports and writes with a latency over TSP_STREAMS_AHEAD.)
 *
 * Two structures hold the events, and a pop takes the smaller head of the two,
 * so the order is exactly that of one priority queue:
 *  - a calendar of TSP_RING per-cycle buckets for cycles cur .. cur+TSP_RING-1.
 *    Almost every event lands there (issues next cycle, re-issues, writes
 *    d_func ahead), and pushing or popping it costs O(1): writes arrive in seq
 *    order and issues mostly in (chip, slot) order, so a bucket is kept sorted
 *    by appending.  Issues run in two sorted runs, popped by the smaller head:
 *    on a rack, a few issues pushed cycles ahead (a C2C queue after a `nop`)
 *    sit in a bucket before the chips' flood of next-cycle re-issues arrives
 *    in order; the flood appends to one run instead of each of its events
 *    shifting the early ones along.  Only an issue below the tail of both runs
 *    is inserted (into the shorter).
 *  - a binary heap for everything else: far-future events (`nop 1000000000`),
 *    events pushed before the calendar exists, and every C2C flit (c2c.c scans
 *    the heap for flits in flight).
 * Snapshots and the state hash see the union in (cycle, tie) order
 * (tsp_events_sorted), never the split, so neither depends on where an event
 * sits. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static inline int before(const tsp_event *a, const tsp_event *b)
{
    /* branch-free: the heap compares a lot of keys whose order is unpredictable */
    return (a->cycle < b->cycle) | ((a->cycle == b->cycle) & (a->tie < b->tie));
}

/* A binary heap (snapshot.c saves the array as it is and checks that shape on
 * load).  (cycle, tie) keys are unique, so pops come out in one order whatever
 * the layout. */
static int heap_push(tsp_events *e, tsp_event ev)
{
    size_t i;
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 256;
        tsp_event *grown = realloc(e->ev, cap * sizeof *grown);
        if (!grown)
            return TSP_E_NOMEM;
        e->ev = grown;
        e->cap = cap;
    }
    i = e->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&ev, &e->ev[parent]))
            break;
        e->ev[i] = e->ev[parent];
        i = parent;
    }
    e->ev[i] = ev;
    return TSP_OK;
}

/* Floyd's bottom-up deletion: the hole at the root walks down to a leaf along
 * the smaller children (one comparison per level instead of two), then the last
 * event, which is usually among the latest, sifts up from there (rarely more
 * than a level).  The result is a valid binary heap, as with the textbook pop. */
static void heap_pop(tsp_events *e, tsp_event *out)
{
    tsp_event last;
    tsp_event *h = e->ev;
    size_t i = 0, n, c;
    *out = h[0];
    n = --e->n;
    if (n == 0)
        return;
    last = h[n];
    while ((c = 2 * i + 1) < n) {
        if (c + 1 < n && before(&h[c + 1], &h[c]))
            c++;
        h[i] = h[c];
        i = c;
    }
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&last, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = last;
}

/* Insert an event into a bucket array kept sorted by tie, never before the
 * `popped` events already taken from it (the heap would hand it out next,
 * too).  Fields come one by one, not as a struct: a struct built on the stack
 * and copied back in 16-byte halves stalls store forwarding on this hot path. */
static int bucket_insert(tsp_event **a, uint32_t *n, uint32_t *cap, uint32_t popped, uint64_t cycle,
                         uint64_t tie, uint32_t idx)
{
    uint32_t i;
    tsp_event *v;
    if (*n == *cap) {
        uint32_t grown_cap = *cap ? 2 * *cap : 16;
        tsp_event *grown = realloc(*a, grown_cap * sizeof *grown);
        if (!grown)
            return TSP_E_NOMEM;
        *a = grown;
        *cap = grown_cap;
    }
    v = *a;
    for (i = *n; i > popped && tie < v[i - 1].tie; i--)
        v[i] = v[i - 1];
    v[i].cycle = cycle;
    v[i].tie = tie;
    v[i].idx = idx;
    (*n)++;
    return TSP_OK;
}

/* To the calendar when the cycle is in its window, else to the heap.  Kept out
 * of line so that tsp_events_push_issue's fast path needs no saved registers. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
static int push(tsp_events *e, uint64_t cycle, uint64_t tie, uint32_t idx)
{
    tsp_bucket *b;
    int rc;
    if ((!e->ring && !(e->ring = calloc(TSP_RING, sizeof *e->ring))) || cycle < e->cur ||
        cycle - e->cur >= TSP_RING) {
        tsp_event ev = { cycle, tie, idx };
        return heap_push(e, ev);
    }
    b = &e->ring[cycle & (TSP_RING - 1)];
    if (tie & TSP_TIE_WRITE)
        rc = bucket_insert(&b->wr, &b->nw, &b->capw, b->cw, cycle, tie, idx);
    else if (b->ni == b->ci || b->iss[b->ni - 1].tie < tie)
        rc = bucket_insert(&b->iss, &b->ni, &b->capi, b->ci, cycle, tie, idx);  /* appends */
    else if (b->ni2 == b->ci2 || b->iss2[b->ni2 - 1].tie < tie)
        rc = bucket_insert(&b->iss2, &b->ni2, &b->capi2, b->ci2, cycle, tie, idx);  /* appends */
    else if (b->ni - b->ci <= b->ni2 - b->ci2)  /* neither run ends below it: the shorter shifts */
        rc = bucket_insert(&b->iss, &b->ni, &b->capi, b->ci, cycle, tie, idx);
    else
        rc = bucket_insert(&b->iss2, &b->ni2, &b->capi2, b->ci2, cycle, tie, idx);
    if (rc == TSP_OK)
        e->ring_n++;
    return rc;
}

/* The calendar's first event: the first non-empty bucket from cur (all its
 * events are in cur .. cur+TSP_RING-1, so the scan is short and ends). */
static tsp_bucket *ring_first(tsp_events *e, const tsp_event **first)
{
    uint64_t c;
    tsp_bucket *b;
    if (!e->ring_n)
        return *first = NULL, NULL;
    for (c = e->cur;; c++) {
        b = &e->ring[c & (TSP_RING - 1)];
        if (b->ci < b->ni || b->ci2 < b->ni2) {  /* issues before writes; the smaller head of the two runs */
            if (b->ci2 == b->ni2 || (b->ci < b->ni && b->iss[b->ci].tie < b->iss2[b->ci2].tie))
                *first = &b->iss[b->ci];
            else
                *first = &b->iss2[b->ci2];
            return b;
        }
        if (b->cw < b->nw) {
            *first = &b->wr[b->cw];
            return b;
        }
    }
}

int tsp_events_pop_before(tsp_events *e, uint64_t limit, tsp_event *out)
{
    const tsp_event *r;
    tsp_bucket *b = ring_first(e, &r);
    if (e->n && (!r || before(&e->ev[0], r))) {
        if (e->ev[0].cycle >= limit)
            return 0;
        heap_pop(e, out);
        /* every calendar event is at or after it: the window may move up */
        if (out->cycle > e->cur)
            e->cur = out->cycle;
        return 1;
    }
    if (!r || r->cycle >= limit)
        return 0;
    *out = *r;
    if (b->ci < b->ni && r == &b->iss[b->ci])
        b->ci++;
    else if (b->ci2 < b->ni2 && r == &b->iss2[b->ci2])
        b->ci2++;
    else
        b->cw++;
    e->ring_n--;
    e->cur = out->cycle;
    if (b->ci == b->ni && b->ci2 == b->ni2 && b->cw == b->nw)  /* drained: ready for cycle cur + TSP_RING */
        b->ni = b->ci = b->ni2 = b->ci2 = b->nw = b->cw = 0;
    return 1;
}

/* For steady.c.  When the next event of all is an issue in the calendar, at a
 * cycle none of whose issues has been popped yet: that cycle and its issues,
 * as the bucket's two sorted runs (tie order across both is the merge); else 0. */
int tsp_events_issue_cycle(const tsp_events *e, uint64_t *cycle, tsp_event_runs *out)
{
    const tsp_event *r;
    tsp_bucket *b = ring_first((tsp_events *)e, &r);
    if (!r || b->ci != 0 || b->ci2 != 0 || b->ni + b->ni2 == 0 || (r->tie & TSP_TIE_WRITE) ||
        (e->n && before(&e->ev[0], r)))
        return 0;
    *cycle = r->cycle;
    out->a = b->iss;
    out->na = b->ni;
    out->b = b->iss2;
    out->nb = b->ni2;
    return 1;
}

/* Take the issues of `cycle` (tsp_events_issue_cycle's) out of the calendar;
 * its writes stay. */
void tsp_events_take_issues(tsp_events *e, uint64_t cycle)
{
    tsp_bucket *b = &e->ring[cycle & (TSP_RING - 1)];
    e->ring_n -= (b->ni - b->ci) + (b->ni2 - b->ci2);
    b->ni = b->ci = b->ni2 = b->ci2 = 0;
    e->cur = cycle;
}

/* The earliest event, calendar or heap (a copy); 0 when there is none. */
int tsp_events_peek(const tsp_events *e, tsp_event *out)
{
    const tsp_event *r;
    (void)ring_first((tsp_events *)e, &r);
    if (e->n && (!r || before(&e->ev[0], r)))
        r = &e->ev[0];
    if (!r)
        return 0;
    *out = *r;
    return 1;
}

int tsp_events_push_issue(tsp_events *e, uint64_t cycle, uint32_t chip, uint32_t slot)
{
    uint64_t tie = ((uint64_t)chip << 16) | slot;
    /* The common case in a few instructions: a calendar cycle whose issues so far
     * all come before this one (queues of a cycle issue in slot order), room left. */
    if (e->ring && cycle - e->cur < TSP_RING && cycle >= e->cur) {
        tsp_bucket *b = &e->ring[cycle & (TSP_RING - 1)];
        if (b->ni < b->capi && (b->ni == b->ci || b->iss[b->ni - 1].tie < tie)) {
            tsp_event *v = &b->iss[b->ni++];
            v->cycle = cycle;
            v->tie = tie;
            v->idx = 0;
            e->ring_n++;
            return TSP_OK;
        }
    }
    return push(e, cycle, tie, 0);
}

static int push_pending(tsp_events *e, uint64_t cycle, uint64_t seq, tsp_pending **out, int flit)
{
    uint32_t idx;
    tsp_event ev;
    if (e->nfree) {
        idx = e->free_list[--e->nfree];
    } else {
        if (e->pool_n == e->pool_cap) {
            size_t cap = e->pool_cap ? 2 * e->pool_cap : 64;
            tsp_pending *pool = realloc(e->pool, cap * sizeof *pool);
            uint32_t *fl;
            if (!pool)
                return TSP_E_NOMEM;
            e->pool = pool;
            fl = realloc(e->free_list, cap * sizeof *fl);
            if (!fl)
                return TSP_E_NOMEM;
            e->free_list = fl;
            e->pool_cap = cap;
        }
        idx = (uint32_t)e->pool_n++;
    }
    ev.cycle = cycle;
    ev.tie = TSP_TIE_WRITE | seq;
    ev.idx = idx;
    if ((flit ? heap_push(e, ev) : push(e, cycle, ev.tie, idx)) != TSP_OK) {
        e->free_list[e->nfree++] = idx;
        return TSP_E_NOMEM;
    }
    *out = &e->pool[idx];
    return TSP_OK;
}

int tsp_events_push_write(tsp_events *e, uint64_t cycle, uint64_t seq, tsp_pending **out)
{
    return push_pending(e, cycle, seq, out, 0);
}

int tsp_events_push_flit(tsp_events *e, uint64_t cycle, uint64_t seq, tsp_pending **out)
{
    return push_pending(e, cycle, seq, out, 1);
}

void tsp_events_release(tsp_events *e, uint32_t idx)
{
    e->free_list[e->nfree++] = idx;  /* the list has room for every pool entry */
}

void tsp_events_free(tsp_events *e)
{
    unsigned i;
    for (i = 0; e->ring && i < TSP_RING; i++) {
        free(e->ring[i].iss);
        free(e->ring[i].iss2);
        free(e->ring[i].wr);
    }
    free(e->ring);
    free(e->ev);
    free(e->pool);
    free(e->free_list);
    memset(e, 0, sizeof *e);
}

static int cmp_event(const void *a, const void *b)
{
    const tsp_event *x = a, *y = b;
    return before(x, y) ? -1 : before(y, x) ? 1 : 0;
}

tsp_event *tsp_events_sorted(const tsp_events *e)
{
    size_t n = tsp_events_count(e), k;
    tsp_event *all;
    unsigned i;
    if (!n || !(all = malloc(n * sizeof *all)))
        return NULL;
    memcpy(all, e->ev, e->n * sizeof *all);
    k = e->n;
    for (i = 0; e->ring && i < TSP_RING; i++) {
        const tsp_bucket *b = &e->ring[i];
        memcpy(all + k, b->iss + b->ci, (b->ni - b->ci) * sizeof *all);
        k += b->ni - b->ci;
        memcpy(all + k, b->iss2 + b->ci2, (b->ni2 - b->ci2) * sizeof *all);
        k += b->ni2 - b->ci2;
        memcpy(all + k, b->wr + b->cw, (b->nw - b->cw) * sizeof *all);
        k += b->nw - b->cw;
    }
    qsort(all, n, sizeof *all, cmp_event);
    return all;
}

/* In (cycle, tie) order, wherever the events sit. */
uint64_t tsp_events_hash(const tsp_events *e, uint64_t h)
{
    size_t n = tsp_events_count(e), i;
    tsp_event *sorted;
    if (n == 0)
        return h;
    if (!(sorted = tsp_events_sorted(e)))
        return tsp_hash_u64(h, UINT64_MAX);  /* unreachable in practice; still deterministic */
    for (i = 0; i < n; i++) {
        h = tsp_hash_u64(h, sorted[i].cycle);
        h = tsp_hash_u64(h, sorted[i].tie);
        if (sorted[i].tie & TSP_TIE_WRITE) {
            const tsp_pending *p = &e->pool[sorted[i].idx];
            h = tsp_hash_u64(h, ((uint64_t)p->chip << 16) ^ ((uint64_t)p->sid << 8) ^ p->pos);
            h = tsp_hash_bytes(h, p->data, TSP_VECTOR_BYTES);
        }
    }
    free(sorted);
    return h;
}
