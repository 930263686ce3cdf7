/* The machine: lifecycle, program load, the event loop, and inspection.
 *
 * Chips are created when something is loaded on them (or on first use), and
 * their MEM slices and stream store only on first write, so an idle chip costs
 * a pointer and a loaded-but-quiet one some kilobytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "mxm.h"

const char *tsp_isa_fingerprint(void)
{
    return TSP_ISA_FINGERPRINT;
}

/* The build script defines it (tspasm/engine/_build.py). */
#ifndef TSP_ENGINE_SOURCE_HASH
#define TSP_ENGINE_SOURCE_HASH "unknown"
#endif

const char *tsp_engine_source_hash(void)
{
    return TSP_ENGINE_SOURCE_HASH;
}

int tsp_create(uint32_t nchips, tsp_machine **out)
{
    tsp_machine *m;
    if (!out)
        return TSP_E_ARG;
    *out = NULL;
    if (nchips == 0 || nchips > TSP_SYSTEM_MAX_CHIPS)
        return TSP_E_ARG;
    if (!(m = calloc(1, sizeof *m)))
        return TSP_E_NOMEM;
    if (!(m->chips = calloc(nchips, sizeof *m->chips))) {
        free(m);
        return TSP_E_NOMEM;
    }
    m->nchips = nchips;
    m->err_info.chip = m->err_info.slot = m->err_info.row = m->err_info.slot2 = m->err_info.row2 = -1;
    *out = m;
    return TSP_OK;
}

static void chip_free(tsp_chip *c)
{
    unsigned i;
    if (!c)
        return;
    for (i = 0; i < TSP_NUM_QUEUES; i++) {
        free(c->q[i].words);
        free(c->q[i].dec);
    }
    for (i = 0; i < TSP_MEM_SLICES; i++)
        tsp_mem_slice_free(c->mem[i]);
    tsp_streams_free(c->streams);
    tsp_mxm_free(c);
    tsp_links_free(c);
    free(c);
}

void tsp_destroy(tsp_machine *m)
{
    uint32_t i;
    if (!m)
        return;
    for (i = 0; i < m->nchips; i++)
        chip_free(m->chips[i]);
    free(m->chips);
    tsp_events_free(&m->events);
    tsp_hazards_free(m);
    free(m->drift_ppb);
    free(m->steady);
    free(m);
}

tsp_chip *tsp_chip_get(tsp_machine *m, uint32_t chip)
{
    tsp_chip *c = m->chips[chip];
    unsigned i;
    if (c)
        return c;
    if (!(c = calloc(1, sizeof *c)))
        return NULL;
    for (i = 0; i < TSP_NUM_QUEUES; i++)
        c->q[i].prev_row = -1;
    for (i = 0; i < TSP_MEM_SLICES; i++)
        c->port[i].cycle = TSP_NO_CYCLE;
    c->config_mask = (1ULL << TSP_SUPERLANES) - 1;  /* every superlane powered */
    c->sync_release = TSP_NO_CYCLE;
    m->chips[chip] = c;
    return c;
}

static tsp_error_info where(int32_t chip, int32_t slot, int32_t row)
{
    tsp_error_info w;
    memset(&w, 0, sizeof w);
    w.chip = chip;
    w.slot = slot;
    w.row = row;
    w.slot2 = w.row2 = -1;
    return w;
}

int tsp_check_fingerprint(tsp_machine *m, const char *image_fingerprint)
{
    if (!m || !image_fingerprint)
        return TSP_E_ARG;
    if (strcmp(image_fingerprint, TSP_ISA_FINGERPRINT) != 0) {
        tsp_error_info w = where(-1, -1, -1);
        return tsp_fail_at(m, TSP_E_IMAGE, &w, "the program was built for ISA %.16s... but this engine "
                           "implements ISA %.16s...; reassemble the program (or reinstall tspasm: pip install .)",
                           image_fingerprint, TSP_ISA_FINGERPRINT);
    }
    return TSP_OK;
}

int tsp_set_hazard_mode(tsp_machine *m, int mode)
{
    if (!m || (mode != TSP_HAZARDS_STOP && mode != TSP_HAZARDS_WARN))
        return TSP_E_ARG;
    m->hazard_mode = mode;
    return TSP_OK;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Every word must be an instruction of the queue's unit with no stray bits. */
static int check_word(tsp_machine *m, uint32_t chip, uint32_t slot, uint64_t row, uint64_t lo, uint64_t hi)
{
    const tsp_opinfo *op = tsp_op((unsigned)(lo & 0xFF));
    tsp_error_info w = where((int32_t)chip, (int32_t)slot, (int32_t)row);
    if (!op)
        return tsp_fail_at(m, TSP_E_IMAGE, &w, "illegal word: opcode 0x%02X is not an instruction",
                           (unsigned)(lo & 0xFF));
    if (!(op->units & (1u << tsp_queue_unit(slot))))
        return tsp_fail_at(m, TSP_E_IMAGE, &w, "illegal word: %s cannot issue on %s", op->name,
                           tsp_queue_name(slot));
    if (tsp_op_stray_bits((unsigned)(lo & 0xFF), lo, hi))
        return tsp_fail_at(m, TSP_E_IMAGE, &w, "illegal word: %s sets bits outside its fields", op->name);
    return TSP_OK;
}

int tsp_load_queue(tsp_machine *m, uint32_t chip, uint32_t slot, const uint8_t *words, uint64_t nwords)
{
    tsp_chip *c;
    tsp_queue *q;
    tsp_error_info w;
    uint64_t n = 0, i;
    int rc;
    if (!m || chip >= m->nchips || slot >= TSP_NUM_QUEUES || (!words && nwords) || nwords > UINT32_MAX)
        return TSP_E_ARG;
    w = where((int32_t)chip, (int32_t)slot, -1);
    if (m->started)
        return tsp_fail_at(m, TSP_E_STATE, &w, "cannot load %s after the run started", tsp_queue_name(slot));
    if (!(c = tsp_chip_get(m, chip)))
        return TSP_E_NOMEM;
    q = &c->q[slot];
    if (q->words)
        return tsp_fail_at(m, TSP_E_STATE, &w, "%s is already loaded", tsp_queue_name(slot));
    while (n < nwords && (le64(words + 16 * n) | le64(words + 16 * n + 8)))
        n++;  /* the all-zero word ends the stream */
    for (i = n; i < nwords; i++)
        if (le64(words + 16 * i) | le64(words + 16 * i + 8)) {
            w.row = (int32_t)i;
            return tsp_fail_at(m, TSP_E_IMAGE, &w, "row %llu holds an instruction after the all-zero word "
                               "that ends the queue at row %llu", (unsigned long long)i, (unsigned long long)n);
        }
    if (n == 0)
        return TSP_OK;
    if (!(q->words = malloc(n * 2 * sizeof *q->words)))
        return TSP_E_NOMEM;
    for (i = 0; i < n; i++) {
        q->words[2 * i] = le64(words + 16 * i);
        q->words[2 * i + 1] = le64(words + 16 * i + 8);
        if ((rc = check_word(m, chip, slot, i, q->words[2 * i], q->words[2 * i + 1])) != TSP_OK) {
            free(q->words);
            q->words = NULL;
            return rc;
        }
    }
    q->nwords = (uint32_t)n;
    q->state = TSP_Q_READY;
    q->next_cycle = 0;
    return tsp_events_push_issue(&m->events, 0, chip, slot);
}

static int deadlock(tsp_machine *m)
{
    char names[TSP_ERR_LEN / 2];
    size_t k = 0;
    uint32_t i, s;
    for (i = 0; i < m->nchips; i++) {
        tsp_chip *c = m->chips[i];
        if (!c || !c->parked)
            continue;
        for (s = 0; s < TSP_NUM_QUEUES && k < sizeof names - 32; s++)
            if (c->q[s].state == TSP_Q_PARKED)
                k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", k ? ", " : "", tsp_queue_name(s));
        {
            tsp_error_info w = where((int32_t)i, -1, -1);
            w.cycle = m->cycle;
            return tsp_fail_at(m, TSP_E_DEADLOCK, &w, "%s park in sync and no notify releases them", names);
        }
    }
    return TSP_OK;
}

/* Stream writes go into the stream store without an event (stream_io.c), but
 * the run ends as if each were an event landing at its cycle: when the last
 * of them lands before `limit`, the clock moves there (1); otherwise the run
 * stops at the limit as with any pending event (0). */
static int writes_land(tsp_machine *m, uint64_t limit)
{
    uint64_t last = TSP_NO_CYCLE, t;
    uint32_t i;
    for (i = 0; i < m->nchips; i++)
        if (m->chips[i] && tsp_streams_pending(m->chips[i]->streams, m->cycle, &t) &&
            (last == TSP_NO_CYCLE || t > last))
            last = t;
    if (last == TSP_NO_CYCLE)
        return 1;
    if (last >= limit)
        return 0;
    if (last > m->cycle)
        m->cycle = last;
    return 1;
}

int tsp_dispatch(tsp_machine *m, const tsp_event *ev)
{
    int rc;
    m->stats.events++;
    m->cycle = ev->cycle;
    if (!(ev->tie & TSP_TIE_WRITE))
        return tsp_queue_event(m, (uint32_t)(ev->tie >> 16), (uint32_t)(ev->tie & 0xFFFF), ev->cycle);
    rc = tsp_land_write(m, ev);
    tsp_events_release(&m->events, ev->idx);
    return rc;
}

int tsp_run(tsp_machine *m, uint64_t max_cycles, int *stop)
{
    uint64_t limit;
    tsp_event ev;
    int rc;
    if (!m || !stop)
        return TSP_E_ARG;
    if (m->fault)
        return m->fault;  /* the message of the first failure stays in place */
    m->started = 1;
    limit = max_cycles > UINT64_MAX - m->cycle ? UINT64_MAX : m->cycle + max_cycles;
    for (;;) {
        int ran = 0;
        if ((rc = tsp_steady_run(m, limit, &ran)) != TSP_OK)
            return m->fault = rc;
        if (ran)
            continue;
        if (!tsp_events_pop_before(&m->events, limit, &ev))
            break;
        if ((rc = tsp_dispatch(m, &ev)) != TSP_OK)
            return m->fault = rc;
    }
    if (tsp_events_count(&m->events) == 0 && !writes_land(m, limit)) {
        m->cycle = limit;  /* a stored write is still to land at or after limit */
        *stop = TSP_STOP_CYCLE_LIMIT;
        return TSP_OK;
    }
    if (tsp_events_count(&m->events) == 0 && (rc = deadlock(m)) != TSP_OK) {
        if (m->end_cycle > m->cycle)
            m->cycle = m->end_cycle;
        return m->fault = rc;
    }
    if (tsp_events_count(&m->events) == 0 && m->end_cycle <= limit) {
        if (m->end_cycle > m->cycle)
            m->cycle = m->end_cycle;
        *stop = TSP_STOP_HALTED;
    } else {
        m->cycle = limit;
        *stop = TSP_STOP_CYCLE_LIMIT;
    }
    return TSP_OK;
}
