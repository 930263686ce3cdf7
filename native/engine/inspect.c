/* Read-only views of the machine for Python, the CLI and (later) the debugger:
 * the clock, queues, chips, streams, counters and the state hash.  All copy
 * out; nothing hands back a pointer into the engine. */
#include <string.h>

#include "engine.h"
#include "mxm.h"

int tsp_cycle(const tsp_machine *m, uint64_t *out)
{
    if (!m || !out)
        return TSP_E_ARG;
    *out = m->cycle;
    return TSP_OK;
}

int tsp_end_cycle(const tsp_machine *m, uint64_t *out)
{
    if (!m || !out)
        return TSP_E_ARG;
    *out = m->end_cycle;
    return TSP_OK;
}

int tsp_stream_peek(const tsp_machine *m, uint32_t chip, uint32_t sid, uint32_t pos, uint8_t *out,
                    int *present)
{
    const uint8_t *v = NULL;
    if (!m || chip >= m->nchips || sid >= TSP_SIDS || pos >= TSP_POSITIONS || !out || !present)
        return TSP_E_ARG;
    if (m->chips[chip])
        v = tsp_streams_read(m->chips[chip]->streams, sid, pos, m->cycle);
    *present = v != NULL;
    memcpy(out, v ? v : tsp_zero_vector, TSP_VECTOR_BYTES);
    return TSP_OK;
}

int tsp_queue_info_get(const tsp_machine *m, uint32_t chip, uint32_t slot, tsp_queue_info *out)
{
    const tsp_queue *q;
    if (!m || chip >= m->nchips || slot >= TSP_NUM_QUEUES || !out)
        return TSP_E_ARG;
    memset(out, 0, sizeof *out);
    if (!m->chips[chip])
        return TSP_OK;
    q = &m->chips[chip]->q[slot];
    out->state = q->state;
    out->next_row = q->next;
    out->rows = q->nwords;
    out->next_cycle = q->state == TSP_Q_READY || q->state == TSP_Q_REPEAT ? q->next_cycle : TSP_NO_CYCLE;
    out->busy_until = q->busy_until;
    out->issued = q->issued;
    out->executed = q->executed;
    if (q->state == TSP_Q_REPEAT) {
        out->repeat_row = q->rep_row;
        out->repeat_k = q->rep_k;
        out->repeat_n = q->rep_n;
    }
    return TSP_OK;
}

int tsp_chip_info_get(const tsp_machine *m, uint32_t chip, tsp_chip_info *out)
{
    const tsp_chip *c;
    unsigned i;
    if (!m || chip >= m->nchips || !out)
        return TSP_E_ARG;
    memset(out, 0, sizeof *out);
    out->config_mask = (1ULL << TSP_SUPERLANES) - 1;
    out->drift_ppb = m->drift_ppb ? m->drift_ppb[chip] : 0;
    out->skew = tsp_skew(m, chip, m->cycle);
    if (!(c = m->chips[chip]))
        return TSP_OK;
    out->config_mask = c->config_mask;
    out->ifetch_words = c->ifetch_words;
    out->notifies = c->notifies;
    for (i = 0; i < TSP_MEM_SLICES; i++)
        out->mem_slices += c->mem[i] != NULL;
    for (i = 0; i < TSP_MXM_PLANES; i++)
        out->mxm_planes += c->mxm[i] != NULL;
    out->transmits = c->transmits;
    out->hacs = c->hacs;
    out->sacs = c->sacs;
    out->sac_offset = c->sac_offset;
    return TSP_OK;
}

int tsp_stats_get(const tsp_machine *m, tsp_stats *out)
{
    uint64_t last;
    uint32_t i;
    if (!m || !out)
        return TSP_E_ARG;
    *out = m->stats;
    /* stream writes are counted when stored (stream_io.c); report those landed by now */
    for (i = 0; i < m->nchips; i++)
        if (m->chips[i])
            out->stream_writes -= tsp_streams_pending(m->chips[i]->streams, m->cycle, &last);
    return TSP_OK;
}

/* ---- hashing: word-at-a-time mixing (xxhash-like rounds); equality checks, not crypto ---- */

#define K1 0x9E3779B185EBCA87ULL
#define K2 0xC2B2AE3D27D4EB4FULL

uint64_t tsp_hash_u64(uint64_t h, uint64_t v)
{
    h ^= v * K2;
    h = (h << 31) | (h >> 33);
    return h * K1;
}

uint64_t tsp_hash_bytes(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    size_t i;
    for (i = 0; i + 8 <= n; i += 8) {
        uint64_t v = 0;
        int b;
        for (b = 7; b >= 0; b--)
            v = (v << 8) | p[i + (size_t)b];
        h = tsp_hash_u64(h, v);
    }
    for (; i < n; i++)
        h = tsp_hash_u64(h, p[i]);
    return tsp_hash_u64(h, n);
}

static uint64_t hash_queue(uint64_t h, const tsp_queue *q)
{
    h = tsp_hash_u64(h, ((uint64_t)q->state << 32) | q->next);
    h = tsp_hash_u64(h, q->nwords);
    h = tsp_hash_u64(h, q->busy_until);
    h = tsp_hash_u64(h, (uint64_t)q->sync_skew);
    if (q->state == TSP_Q_READY || q->state == TSP_Q_REPEAT)
        h = tsp_hash_u64(h, q->next_cycle);
    h = tsp_hash_u64(h, (uint64_t)q->prev_row);
    h = tsp_hash_u64(h, q->prev_cycle ^ ((uint64_t)q->prev_unit << 63));
    if (q->state == TSP_Q_REPEAT) {
        h = tsp_hash_u64(h, q->rep_row);
        h = tsp_hash_u64(h, q->rep_base);
        h = tsp_hash_u64(h, q->rep_k);
        h = tsp_hash_u64(h, q->rep_n);
        h = tsp_hash_u64(h, q->rep_d);
    }
    return h;
}

/* Only non-zero rows count, so an allocated-but-zero slice hashes like an untouched one. */
static uint64_t hash_mem(uint64_t h, const tsp_chip *c)
{
    unsigned s;
    uint32_t a;
    for (s = 0; s < TSP_MEM_SLICES; s++) {
        if (!c->mem[s])
            continue;
        for (a = 0; a < TSP_MEM_WORDS; a++) {
            const uint8_t *row = c->mem[s] + (size_t)a * TSP_VECTOR_BYTES;
            if (memcmp(row, tsp_zero_vector, TSP_VECTOR_BYTES) == 0)
                continue;
            h = tsp_hash_u64(h, ((uint64_t)s << 32) | a);
            h = tsp_hash_bytes(h, row, TSP_VECTOR_BYTES);
        }
    }
    return h;
}

int tsp_state_hash(const tsp_machine *m, uint64_t *out)
{
    uint64_t h = 0x5453502D31ULL;  /* "TSP-1" */
    uint32_t i, s;
    if (!m || !out)
        return TSP_E_ARG;
    h = tsp_hash_u64(h, m->cycle);
    h = tsp_hash_u64(h, m->end_cycle);
    h = tsp_hash_u64(h, m->nchips);
    h = tsp_clock_hash(m, h);
    for (i = 0; i < m->nchips; i++) {
        const tsp_chip *c = m->chips[i];
        if (!c)
            continue;
        h = tsp_hash_u64(h, i);
        for (s = 0; s < TSP_NUM_QUEUES; s++)
            h = hash_queue(h, &c->q[s]);
        h = hash_mem(h, c);
        h = tsp_streams_hash(c->streams, m->cycle, h);
        h = tsp_mxm_hash(c, m->cycle, h);
        h = tsp_hash_u64(h, c->config_mask);
        h = tsp_hash_u64(h, c->ifetch_words);
        h = tsp_hash_u64(h, ((uint64_t)c->parked << 32) | c->nnotify);
        for (s = 0; s < c->nnotify; s++)
            h = tsp_hash_u64(h, c->notify[s]);
        h = tsp_links_hash(c, h);
    }
    *out = tsp_events_hash(&m->events, h);
    return TSP_OK;
}
