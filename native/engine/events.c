/* The event queue: time advances by jumping to the next cycle where a queue
 * acts or a pending stream write lands, so idle cycles cost nothing.
 *
 * One binary heap ordered by (cycle, tie).  The tie puts every queue issue of a
 * cycle (whose reads see the streams as they are) before every stream write of
 * that cycle: "within one cycle, reads happen before writes".  Issues are
 * ordered by (chip, slot) and writes by a global sequence number, so runs are
 * deterministic.  Pending writes carry 320 bytes each and live in a pool with
 * a free list, so the heap moves only small records.
 */
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
static int push(tsp_events *e, tsp_event ev)
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

int tsp_events_push_issue(tsp_events *e, uint64_t cycle, uint32_t chip, uint32_t slot)
{
    tsp_event ev = { cycle, ((uint64_t)chip << 16) | slot, 0 };
    return push(e, ev);
}

int tsp_events_push_write(tsp_events *e, uint64_t cycle, uint64_t seq, tsp_pending **out)
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
    if (push(e, ev) != TSP_OK) {
        e->free_list[e->nfree++] = idx;
        return TSP_E_NOMEM;
    }
    *out = &e->pool[idx];
    return TSP_OK;
}

/* Floyd's bottom-up deletion: the hole at the root walks down to a leaf along
 * the smaller children (one comparison per level instead of two), then the last
 * event, which is usually among the latest, sifts up from there (rarely more
 * than a level).  The result is a valid binary heap, as with the textbook pop. */
int tsp_events_pop(tsp_events *e, tsp_event *out)
{
    tsp_event last;
    tsp_event *h = e->ev;
    size_t i = 0, n, c;
    if (e->n == 0)
        return 0;
    *out = h[0];
    n = --e->n;
    if (n == 0)
        return 1;
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
    return 1;
}

void tsp_events_release(tsp_events *e, uint32_t idx)
{
    e->free_list[e->nfree++] = idx;  /* the list has room for every pool entry */
}

void tsp_events_free(tsp_events *e)
{
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

/* In (cycle, tie) order, whatever the heap's internal layout. */
uint64_t tsp_events_hash(const tsp_events *e, uint64_t h)
{
    tsp_event *sorted;
    size_t i;
    if (e->n == 0)
        return h;
    sorted = malloc(e->n * sizeof *sorted);
    if (!sorted)
        return tsp_hash_u64(h, UINT64_MAX);  /* unreachable in practice; still deterministic */
    memcpy(sorted, e->ev, e->n * sizeof *sorted);
    qsort(sorted, e->n, sizeof *sorted, cmp_event);
    for (i = 0; i < e->n; i++) {
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
