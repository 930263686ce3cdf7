/* Clock drift and link jitter: the optional realism of reference-model.md §4.
 *
 * Time.  The engine keeps every chip on the machine's one cycle counter, and a
 * chip's instructions, streams and units live in that chip's LOCAL cycles (the
 * cycles its own oscillator counts).  Without drift local time is global time.
 * With drift, chip c's oscillator runs drift_ppb parts per billion fast (slow
 * when negative), so at its local cycle l the reference ("global") time is
 *     global(l) = l - skew(l),   skew(l) = trunc(l * drift_ppb / 10^9).
 * Truncation makes skew 0 for the first 10^9/|drift_ppb| cycles either way, so
 * short programs are not disturbed at all.
 *
 * Everything a chip does alone is in its local cycles; time only crosses
 * between chips on a link, and through the hardware aligned counters:
 *  - A flit sent at local t on chip A (global g = global_A(t)) reaches chip B
 *    at global g + latency, i.e. it is receivable on B from the first local
 *    cycle whose global time is >= that (tsp_local_of).
 *  - The HACs are kept aligned by the hardware calibration (tsp-facts §9.3),
 *    so an HAC epoch boundary is a global time multiple of sync.hac_epoch, at
 *    a different LOCAL cycle on each drifting chip.  deskew waits for the next
 *    one; a transmit releases its peer's syncs at one.
 *  - runtime_deskew n waits n cycles corrected by the skew the chip has gained
 *    since the queue last lined up with the HACs (its deskew, a transmit
 *    release, an earlier runtime_deskew, or the start): n + (skew(now) -
 *    q->sync_skew), at least 1.  Queues that deskew together therefore line up
 *    with every other chip's again, to within a cycle.
 * Limit: events stay in one queue ordered by local cycle, so a flit cannot be
 * delivered into a receiver's past: when two linked chips' skews differ by
 * more than the link latency (about 10^6 cycles at 100 ppm apart) the run
 * stops with an error saying so.
 *
 * Jitter.  With a nonzero seed every flit's latency is its link's latency plus
 * (j - c2c.link_latency), where j in [link_latency_min, link_latency_max] is
 * binomial with mean link_latency (the measured 209..228 range, mean 217) and
 * is drawn from a hash of (seed, chip, port, flit number): the same seed gives
 * the same latencies whatever order things are simulated or restored in.  The
 * range (19) is below the flit spacing (24), so a link never reorders flits. */
#include <stdlib.h>

#include "engine.h"

#define PPB 1000000000LL
#define EPOCH TSP_SYNC_HAC_EPOCH
#define JIT_TRIALS (TSP_C2C_LINK_LATENCY_MAX - TSP_C2C_LINK_LATENCY_MIN)
/* Success probability of each trial, in 1/65536, so that the mean is link_latency. */
#define JIT_P16 (((TSP_C2C_LINK_LATENCY - TSP_C2C_LINK_LATENCY_MIN) * 65536 + JIT_TRIALS / 2) / JIT_TRIALS)

int tsp_chip_drift_set(tsp_machine *m, uint32_t chip, int64_t drift_ppb)
{
    if (!m || chip >= m->nchips || m->started || drift_ppb > TSP_DRIFT_PPB_MAX || drift_ppb < -TSP_DRIFT_PPB_MAX)
        return TSP_E_ARG;
    if (!m->drift_ppb) {
        if (!drift_ppb)
            return TSP_OK;
        if (!(m->drift_ppb = calloc(m->nchips, sizeof *m->drift_ppb)))
            return TSP_E_NOMEM;
    }
    m->drift_ppb[chip] = drift_ppb;
    return TSP_OK;
}

int tsp_jitter_set(tsp_machine *m, uint64_t seed)
{
    if (!m || m->started)
        return TSP_E_ARG;
    m->jitter_seed = seed;
    return TSP_OK;
}

int64_t tsp_skew(const tsp_machine *m, uint32_t chip, uint64_t local)
{
    int64_t p = m->drift_ppb ? m->drift_ppb[chip] : 0;
    if (!p)
        return 0;
    /* trunc(local * p / 10^9) without overflow: local = q * 10^9 + r, and q * p and
       r * p share a sign, so truncating the fraction r * p / 10^9 alone is exact. */
    return (int64_t)(local / PPB) * p + (int64_t)(local % PPB) * p / PPB;
}

uint64_t tsp_global_of(const tsp_machine *m, uint32_t chip, uint64_t local)
{
    return (uint64_t)((int64_t)local - tsp_skew(m, chip, local));
}

/* The first local cycle of `chip` whose global time is >= global.  global_of is
 * non-decreasing (|drift| < 1), so a start near the answer and a few steps do. */
uint64_t tsp_local_of(const tsp_machine *m, uint32_t chip, uint64_t global)
{
    int64_t guess;
    uint64_t l;
    if (!m->drift_ppb || !m->drift_ppb[chip])
        return global;
    guess = (int64_t)global + tsp_skew(m, chip, global);
    l = guess < 0 ? 0 : (uint64_t)guess;
    while (tsp_global_of(m, chip, l) < global)
        l++;
    while (l > 0 && tsp_global_of(m, chip, l - 1) >= global)
        l--;
    return l;
}

/* The local cycle of the first HAC epoch boundary strictly after local cycle t. */
uint64_t tsp_next_epoch(const tsp_machine *m, uint32_t chip, uint64_t t)
{
    uint64_t g = tsp_global_of(m, chip, t);
    return tsp_local_of(m, chip, (g / EPOCH + 1) * EPOCH);
}

/* The local cycle of the first HAC epoch boundary at or after local cycle t. */
uint64_t tsp_epoch_at_or_after(const tsp_machine *m, uint32_t chip, uint64_t t)
{
    uint64_t g = tsp_global_of(m, chip, t);
    return tsp_local_of(m, chip, (g + EPOCH - 1) / EPOCH * EPOCH);
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint32_t tsp_flit_latency(const tsp_machine *m, uint32_t chip, uint32_t port, const tsp_link *l)
{
    uint64_t x, r = 0;
    int64_t lat;
    unsigned i, j = TSP_C2C_LINK_LATENCY_MIN;
    if (!m->jitter_seed)
        return l->latency;
    x = m->jitter_seed ^ ((uint64_t)chip << 40) ^ ((uint64_t)port << 32) ^ l->sent;
    x = splitmix(&x);
    for (i = 0; i < JIT_TRIALS; i++) {
        if (i % 4 == 0)
            r = splitmix(&x);
        j += (unsigned)((r >> (16 * (i % 4))) & 0xFFFF) < (unsigned)JIT_P16;
    }
    lat = (int64_t)l->latency + (int64_t)j - TSP_C2C_LINK_LATENCY;
    return lat < 1 ? 1 : (uint32_t)lat;
}

uint64_t tsp_clock_hash(const tsp_machine *m, uint64_t h)
{
    uint32_t i;
    h = tsp_hash_u64(h, m->jitter_seed);
    for (i = 0; m->drift_ppb && i < m->nchips; i++)
        h = tsp_hash_u64(h, (uint64_t)m->drift_ppb[i]);
    return h;
}
