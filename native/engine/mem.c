/* MEM slices: storage, the bank-port rule, and the MEM instructions.
 *
 * A slice is TSP_MEM_WORDS vectors of 320 bytes, allocated on its first write
 * (reads of an untouched slice see zeros), so an idle chip costs no MEM.
 * Per slice per cycle at most one read and one write, in different banks
 * (bank = address bit TSP_MEM_BANK_ADDRESS_BIT); breaking that is a schedule
 * error.  An address outside 0..TSP_MEM_WORDS-1 is a fault. */
#define _DEFAULT_SOURCE 1  /* MAP_ANONYMOUS under -std=c11 (glibc hides it in strict ISO mode) */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#if defined(MAP_ANONYMOUS)
#define TSP_HAVE_MMAP 1
#endif
#endif

#define SL_LANES TSP_GEOMETRY_LANES_PER_SUPERLANE

#define SLICE_BYTES ((size_t)TSP_MEM_WORDS * TSP_VECTOR_BYTES)

/* A slice's storage, zeroed.  Page-aligned where mmap exists: a 320-byte row
 * then covers exactly five cache lines (malloc's 16-byte alignment makes it
 * six), and the kernel zero-fills pages only as they are touched, as calloc's
 * mmap would. */
uint8_t *tsp_mem_slice_new(void)
{
#if defined(TSP_HAVE_MMAP)
    void *p = mmap(NULL, SLICE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : (uint8_t *)p;
#else
    return calloc(TSP_MEM_WORDS, TSP_VECTOR_BYTES);
#endif
}

void tsp_mem_slice_free(uint8_t *slice)
{
    if (!slice)
        return;
#if defined(TSP_HAVE_MMAP)
    munmap(slice, SLICE_BYTES);
#else
    free(slice);
#endif
}

uint8_t *tsp_mem_row(tsp_chip *c, int slice, uint32_t addr, int alloc)
{
    if (!c->mem[slice]) {
        if (!alloc)
            return NULL;
        c->mem[slice] = tsp_mem_slice_new();
        if (!c->mem[slice])
            return NULL;
    }
    return c->mem[slice] + (size_t)addr * TSP_VECTOR_BYTES;
}

static unsigned bank_of(uint32_t addr)
{
    return (addr >> TSP_MEM_BANK_ADDRESS_BIT) % TSP_MEM_BANKS;
}

static TSP_COLD int outside(tsp_ctx *cx, const tsp_insn *in, int64_t a)
{
    return tsp_fail(cx, in, TSP_E_FAULT, "address %lld is outside MEM (0..%d)", (long long)a, TSP_MEM_WORDS - 1);
}

static int address(tsp_ctx *cx, const tsp_insn *in, int field, uint32_t *out)
{
    int64_t a = tsp_field(in, field);
    if (TSP_UNLIKELY(a < 0 || a >= TSP_MEM_WORDS))
        return outside(cx, in, a);
    *out = (uint32_t)a;
    return TSP_OK;
}

/* The port rule broken: which way, in the words of the error. */
static TSP_COLD int port_hazard(tsp_ctx *cx, const tsp_insn *in, int write, const tsp_port *p, uint32_t addr)
{
    const char *slice = tsp_queue_name(cx->slot);
    if (write && p->writes)
        return tsp_hazard(cx, in, "%s writes twice in one cycle (addresses %d and %u)", slice, p->waddr, addr);
    if (write)
        return tsp_hazard(cx, in, "%s reads address %d and writes address %u in the same bank in one cycle "
                          "(a slice reads and writes together only in different banks)", slice, p->raddr, addr);
    if (p->reads)
        return tsp_hazard(cx, in, "%s reads twice in one cycle (addresses %d and %u)", slice, p->raddr, addr);
    return tsp_hazard(cx, in, "%s writes address %d and reads address %u in the same bank in one cycle "
                      "(a slice reads and writes together only in different banks)", slice, p->waddr, addr);
}

/* Claim the slice's read or write port for this cycle on the banks in `banks`. */
static int port(tsp_ctx *cx, const tsp_insn *in, int write, unsigned banks, uint32_t addr)
{
    tsp_port *p = &cx->chip->port[cx->slice];
    int rc = TSP_OK;
    if (p->cycle != cx->cycle) {
        memset(p, 0, sizeof *p);
        p->cycle = cx->cycle;
    }
    if (write) {
        if (TSP_UNLIKELY(p->writes || (p->rbanks & banks)))
            rc = port_hazard(cx, in, 1, p, addr);
        p->writes++;
        p->wbanks |= (uint8_t)banks;
        p->waddr = (int32_t)addr;
    } else {
        if (TSP_UNLIKELY(p->reads || (p->wbanks & banks)))
            rc = port_hazard(cx, in, 0, p, addr);
        p->reads++;
        p->rbanks |= (uint8_t)banks;
        p->raddr = (int32_t)addr;
    }
    return rc;
}

/* A read under `repeat` walks MEM by its address step: touch the row a few
 * re-issues ahead now, so it is in cache by then (rows are 320 bytes apart
 * and 20 slices walk at once, more streams than the hardware prefetcher
 * follows).  Into L2, not L1: 20 slices x 8 rows ahead x 5 lines is more than
 * an L1 holds, and would push out the queues and stream entries every
 * instruction touches.  No effect on the results. */
static void prefetch_ahead(tsp_ctx *cx, const tsp_insn *in, int addr_field)
{
    enum { AHEAD = 8 };
    tsp_insn later = *in;
    int64_t a;
    const uint8_t *row;
    unsigned i;
    later.rep += AHEAD;
    a = tsp_field(&later, addr_field);
    if (a < 0 || a >= TSP_MEM_WORDS || !(row = cx->chip->mem[cx->slice]))
        return;
    row += (size_t)a * TSP_VECTOR_BYTES;
#if defined(__GNUC__) || defined(__clang__)
    for (i = 0; i < TSP_VECTOR_BYTES; i += 64)
        __builtin_prefetch(row + i, 0, 2);  /* read, keep in L2 (prefetcht1) */
#else
    (void)i;
#endif
}

static int mem_read(tsp_ctx *cx, const tsp_insn *in, int addr_field, int dst_field)
{
    uint32_t a = 0;
    const uint8_t *row;
    int rc = address(cx, in, addr_field, &a);
    if (rc == TSP_OK)
        rc = port(cx, in, 0, 1u << bank_of(a), a);
    if (rc != TSP_OK)
        return rc;
    row = tsp_mem_row(cx->chip, cx->slice, a, 0);
    prefetch_ahead(cx, in, addr_field);
    /* the stream store points at the row; mem_write below copies it out before changing it */
    return tsp_out_row(cx, in, (unsigned)tsp_field(in, dst_field), row, a);
}

static int mem_write(tsp_ctx *cx, const tsp_insn *in, int addr_field, int src_field)
{
    uint32_t a = 0;
    uint8_t *row;
    const uint8_t *v;
    int rc = address(cx, in, addr_field, &a);
    if (rc == TSP_OK)
        rc = port(cx, in, 1, 1u << bank_of(a), a);
    if (rc != TSP_OK)
        return rc;
    v = tsp_in(cx, in, (unsigned)tsp_field(in, src_field), &rc);
    if (!v)
        return rc;
    if (!(row = tsp_mem_row(cx->chip, cx->slice, a, 1)) ||
        tsp_streams_row_written(cx->chip->streams, cx->slice, a, row, cx->cycle) < 0)
        return tsp_fail(cx, in, TSP_E_NOMEM, "no memory for %s", tsp_queue_name(cx->slot));
    if (v != row)  /* v may be this very row, read earlier and still in flight */
        tsp_copy_vector(row, v);
    return TSP_OK;
}

int tsp_exec_read(tsp_ctx *cx, const tsp_insn *in) { return mem_read(cx, in, TSP_F_addr, TSP_F_dst); }
int tsp_exec_write(tsp_ctx *cx, const tsp_insn *in) { return mem_write(cx, in, TSP_F_addr, TSP_F_src); }

int tsp_exec_rw(tsp_ctx *cx, const tsp_insn *in)
{
    int rc = mem_read(cx, in, TSP_F_addr, TSP_F_dst);  /* reads before writes */
    return rc != TSP_OK ? rc : mem_write(cx, in, TSP_F_waddr, TSP_F_src);
}

/* The per-superlane addresses of a map vector: lanes 0-1 of each superlane, little-endian. */
static int tile_addresses(tsp_ctx *cx, const tsp_insn *in, const uint8_t *map, uint32_t *addr,
                          unsigned *banks)
{
    unsigned s;
    *banks = 0;
    for (s = 0; s < TSP_SUPERLANES; s++) {
        uint32_t a = map[s * SL_LANES] | ((uint32_t)map[s * SL_LANES + 1] << 8);
        if (a >= TSP_MEM_WORDS)
            return tsp_fail(cx, in, TSP_E_FAULT, "address %u in superlane %u of the map is outside MEM (0..%d)",
                            a, s, TSP_MEM_WORDS - 1);
        addr[s] = a;
        *banks |= 1u << bank_of(a);
    }
    return TSP_OK;
}

int tsp_exec_gather(tsp_ctx *cx, const tsp_insn *in)
{
    uint32_t addr[TSP_SUPERLANES];
    uint8_t out[TSP_VECTOR_BYTES];
    unsigned banks, s;
    int slice = cx->slice, rc;
    const uint8_t *map = tsp_in(cx, in, (unsigned)tsp_field(in, TSP_F_map), &rc);
    if (!map)
        return rc;
    if ((rc = tile_addresses(cx, in, map, addr, &banks)) != TSP_OK ||
        (rc = port(cx, in, 0, banks, addr[0])) != TSP_OK)
        return rc;
    for (s = 0; s < TSP_SUPERLANES; s++) {
        const uint8_t *row = tsp_mem_row(cx->chip, slice, addr[s], 0);
        memcpy(out + s * SL_LANES, row ? row + s * SL_LANES : tsp_zero_vector, SL_LANES);
    }
    return tsp_out(cx, in, (unsigned)tsp_field(in, TSP_F_dst), out);
}

int tsp_exec_scatter(tsp_ctx *cx, const tsp_insn *in)
{
    uint32_t addr[TSP_SUPERLANES];
    uint8_t src[TSP_VECTOR_BYTES];  /* a copy: the value may point at a row written below */
    unsigned banks, s;
    int slice = cx->slice, rc;
    const uint8_t *v = tsp_in(cx, in, (unsigned)tsp_field(in, TSP_F_src), &rc), *map;
    if (!v)
        return rc;
    tsp_copy_vector(src, v);
    if (!(map = tsp_in(cx, in, (unsigned)tsp_field(in, TSP_F_map), &rc)))
        return rc;
    if ((rc = tile_addresses(cx, in, map, addr, &banks)) != TSP_OK ||
        (rc = port(cx, in, 1, banks, addr[0])) != TSP_OK)
        return rc;
    for (s = 0; s < TSP_SUPERLANES; s++) {
        uint8_t *row = tsp_mem_row(cx->chip, slice, addr[s], 1);
        if (!row || tsp_streams_row_written(cx->chip->streams, slice, addr[s], row, cx->cycle) < 0)
            return tsp_fail(cx, in, TSP_E_NOMEM, "no memory for %s", tsp_queue_name(cx->slot));
        memcpy(row + s * SL_LANES, src + s * SL_LANES, SL_LANES);
    }
    return TSP_OK;
}

/* ---- host access (the API) ---- */

static int host_slice(const tsp_machine *m, uint32_t chip, uint32_t slot, uint32_t addr, uint32_t rows,
                      int *slice)
{
    if (!m || chip >= m->nchips || slot >= TSP_NUM_QUEUES || (*slice = tsp_queue_slice(slot)) < 0 ||
        addr > TSP_MEM_WORDS || rows > TSP_MEM_WORDS - addr)
        return TSP_E_ARG;
    return TSP_OK;
}

int tsp_mem_write(tsp_machine *m, uint32_t chip, uint32_t slot, uint32_t addr, uint32_t rows,
                  const uint8_t *data)
{
    int slice;
    tsp_chip *c;
    uint8_t *row;
    if (host_slice(m, chip, slot, addr, rows, &slice) != TSP_OK || (!data && rows))
        return TSP_E_ARG;
    if (rows == 0)
        return TSP_OK;
    if (!(c = tsp_chip_get(m, chip)) || !(row = tsp_mem_row(c, slice, addr, 1)) ||
        tsp_streams_unref_all(c->streams) < 0)  /* values in flight keep the old rows */
        return TSP_E_NOMEM;
    memcpy(row, data, (size_t)rows * TSP_VECTOR_BYTES);
    return TSP_OK;
}

int tsp_mem_read(const tsp_machine *m, uint32_t chip, uint32_t slot, uint32_t addr, uint32_t rows,
                 uint8_t *out)
{
    int slice;
    tsp_chip *c;
    if (host_slice(m, chip, slot, addr, rows, &slice) != TSP_OK || (!out && rows))
        return TSP_E_ARG;
    c = m->chips[chip];
    if (c && c->mem[slice])
        memcpy(out, c->mem[slice] + (size_t)addr * TSP_VECTOR_BYTES, (size_t)rows * TSP_VECTOR_BYTES);
    else
        memset(out, 0, (size_t)rows * TSP_VECTOR_BYTES);
    return TSP_OK;
}
