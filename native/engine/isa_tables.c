/* The generated ISA tables expanded into the lookups the engine needs:
 * opcode -> semantics, queue slot -> position/unit/slice, field -> bits, and the
 * repeat steps.  Nothing here is typed in by hand; it all comes from tsp_isa.h. */
#include "engine.h"

static const tsp_opinfo ops[256] = {
#define TSP_DECLARE_INSN(name, op, lat, ctl, units) [op] = { #name, lat, ctl, units, tsp_exec_##name },
#include "tsp_isa.h"
#undef TSP_DECLARE_INSN
};

static const uint64_t used_lo[256] = {
#define TSP_DECLARE_INSN_USED(name, op, lo, hi) [op] = lo,
#include "tsp_isa.h"
#undef TSP_DECLARE_INSN_USED
};

static const uint64_t used_hi[256] = {
#define TSP_DECLARE_INSN_USED(name, op, lo, hi) [op] = hi,
#include "tsp_isa.h"
#undef TSP_DECLARE_INSN_USED
};

const tsp_opinfo *tsp_op(unsigned opcode)
{
    if (opcode > 255 || ops[opcode].name == NULL)
        return NULL;
    return &ops[opcode];
}

int tsp_op_stray_bits(unsigned opcode, uint64_t lo, uint64_t hi)
{
    return (lo & ~used_lo[opcode]) != 0 || (hi & ~used_hi[opcode]) != 0;
}

/* ---- fields ---- */

typedef struct {
    unsigned lo, width, kind;
} field_def;

static const field_def fields[TSP_NUM_FIELDS] = {
#define TSP_DECLARE_FIELD(name, lo, width, kind) { lo, width, kind },
#include "tsp_isa.h"
#undef TSP_DECLARE_FIELD
};

/* isa `steps`: on re-issue k, field += k * (value of step_field, or constant). */
typedef struct {
    unsigned opcode;
    int field, step_field;
    int64_t constant;
} step_def;

static const step_def steps[] = {
#define TSP_DECLARE_STEP(name, op, field, step_field) { op, TSP_F_##field, TSP_F_##step_field, 0 },
#define TSP_DECLARE_STEP_CONST(name, op, field, step) { op, TSP_F_##field, -1, step },
#include "tsp_isa.h"
#undef TSP_DECLARE_STEP
#undef TSP_DECLARE_STEP_CONST
};

static uint64_t bits128(uint64_t lo, uint64_t hi, unsigned at, unsigned width)
{
    uint64_t v;
    if (at >= 64)
        v = hi >> (at - 64);
    else if (at == 0)
        v = lo;
    else
        v = (lo >> at) | (hi << (64 - at));
    if (width < 64)
        v &= (1ULL << width) - 1;
    return v;
}

static int64_t raw_field(uint64_t lo, uint64_t hi, int field)
{
    const field_def *f = &fields[field];
    uint64_t v = bits128(lo, hi, f->lo, f->width);
    if (f->kind == TSP_KIND_INT && f->width < 64 && (v >> (f->width - 1)) & 1u)
        v |= ~0ULL << f->width;
    return (int64_t)v;
}

void tsp_decode(uint64_t lo, uint64_t hi, tsp_decoded *d)
{
    size_t i;
    int f;
    d->opcode = (uint8_t)(lo & 0xFF);
    d->op = tsp_op(d->opcode);
    for (f = 0; f < TSP_NUM_FIELDS; f++) {
        d->f[f].val = raw_field(lo, hi, f);
        d->f[f].step = 0;
    }
    for (i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i].opcode == d->opcode)  /* summed: k*s1 + k*s2 == k*(s1 + s2) */
            d->f[steps[i].field].step += steps[i].step_field >= 0 ? d->f[steps[i].step_field].val
                                                                 : steps[i].constant;
}

/* ---- queues and element types ---- */

typedef struct {
    const char *name;
    unsigned unit, pos;
    int slice;
    int index;                 /* isa `index` (SXM, MEM, VXM) or `plane` (MXM) */
} queue_def;

#define SLICE_OF(unit, hemi, index) \
    ((unit) != TSP_UNIT_MEM ? -1 : (hemi) == 'E' ? TSP_MEM_SLICES_PER_HEMISPHERE + (index) : (index))

static const queue_def queues[TSP_NUM_QUEUES] = {
#define TSP_DECLARE_QUEUE(slot, name, unit, pos, hemi, index) \
    [slot] = { #name, unit, pos, SLICE_OF(unit, hemi, index), index },
#include "tsp_isa.h"
#undef TSP_DECLARE_QUEUE
};

const char *tsp_queue_name(unsigned slot) { return slot < TSP_NUM_QUEUES ? queues[slot].name : "?"; }
unsigned tsp_queue_pos(unsigned slot) { return queues[slot].pos; }
unsigned tsp_queue_unit(unsigned slot) { return queues[slot].unit; }
int tsp_queue_slice(unsigned slot) { return slot < TSP_NUM_QUEUES ? queues[slot].slice : -1; }
int tsp_queue_index(unsigned slot) { return slot < TSP_NUM_QUEUES ? queues[slot].index : -1; }

static const int dtype_bytes[TSP_NUM_DTYPES] = {
#define TSP_DECLARE_DTYPE(name, code, bytes) [code] = bytes,
#include "tsp_isa.h"
#undef TSP_DECLARE_DTYPE
};

int tsp_dtype_bytes(unsigned code) { return code < TSP_NUM_DTYPES ? dtype_bytes[code] : 0; }
