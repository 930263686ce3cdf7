/* Internal state of the TSP-1 engine.  Never exposed to Python (the API hands
 * out an opaque tsp_machine).  Every machine number comes from the generated
 * tsp_isa.h; nothing here repeats a value of isa/. */
#ifndef TSP_ENGINE_INTERNAL_H
#define TSP_ENGINE_INTERNAL_H

#include <stdint.h>
#include <stddef.h>

#include "tsp_isa.h"
#include "tsp_engine.h"

/* A stream id is the 6-bit stream field itself: bits 0-4 the number, bit 5 west. */
#define TSP_SIDS (2 * TSP_STREAMS)
#define TSP_SID_WEST(sid) (((sid) & TSP_STREAM_WEST_BIT) != 0)
#define TSP_NO_CYCLE UINT64_MAX

/* Field ids in TSP_DECLARE_FIELD order: TSP_F_addr, TSP_F_dst, ... */
enum {
#define TSP_DECLARE_FIELD(name, lo, width, kind) TSP_F_##name,
#include "tsp_isa.h"
#undef TSP_DECLARE_FIELD
    TSP_NUM_FIELDS
};

/* Error paths out of line: the hot functions they leave then need no stack
 * frame of their own (no saved registers, no message buffers). */
#if defined(__GNUC__) || defined(__clang__)
#define TSP_COLD __attribute__((noinline, cold))
#define TSP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TSP_INLINE static inline __attribute__((always_inline))
#else
#define TSP_INLINE static inline
#define TSP_COLD
#define TSP_UNLIKELY(x) (x)
#endif

typedef struct tsp_ctx tsp_ctx;
typedef struct tsp_insn tsp_insn;
typedef int (*tsp_exec_fn)(tsp_ctx *cx, const tsp_insn *in);

/* What the engine knows about an opcode, all from the generated tables. */
typedef struct {
    const char *name;          /* NULL: no such opcode */
    uint32_t latency;          /* d_func */
    uint32_t control;          /* TSP_CONTROL_*: how it occupies its queue */
    uint32_t units;            /* bitmask of TSP_UNIT_*; TSP_UNIT_ALL for ICU */
    tsp_exec_fn exec;          /* tsp_exec_<name>, one per instruction (Spike style) */
} tsp_opinfo;

const tsp_opinfo *tsp_op(unsigned opcode);
/* Nonzero when the word sets bits the instruction does not use. */
int tsp_op_stray_bits(unsigned opcode, uint64_t lo, uint64_t hi);

/* A queue word decoded once (tsp_decode): every field's value, sign-extended
 * for `int` fields, and what each re-issue adds to it (isa `steps`; 0 for
 * fields that do not step).  Issue and every re-issue read fields from here
 * instead of extracting bits from the 128-bit word again. */
typedef struct {
    const tsp_opinfo *op;
    uint8_t opcode;
    struct {
        int64_t val, step;     /* side by side: a field read on re-issue k touches one cache line */
    } f[TSP_NUM_FIELDS];
} tsp_decoded;
void tsp_decode(uint64_t lo, uint64_t hi, tsp_decoded *d);

/* One issue of an instruction: its decoded word plus which repeat it is. */
struct tsp_insn {
    const tsp_decoded *d;
    const tsp_opinfo *op;
    uint8_t opcode;
    uint32_t row;              /* word index in its queue */
    uint64_t rep;              /* 0 = the issue itself, k = k-th re-issue */
};

/* A field of the word, advanced by the instruction's isa `steps` on re-issue k
 * (field + k * step).  Not masked to the field width: a stepped address that
 * leaves MEM is a fault the instruction reports, not a silent wrap. */
static inline int64_t tsp_field(const tsp_insn *in, int field)
{
    return in->d->f[field].val + (int64_t)in->rep * in->d->f[field].step;
}

/* Who wrote a stream value: for the two-writer message and the state hash. */
typedef struct {
    uint32_t slot;
    uint32_t row;
    uint64_t cycle;            /* issue cycle of the writing instruction */
} tsp_writer;

/* ---- streams (streams.c): values in flight, stored per diagonal ---- */
/* Writes landing at most this many cycles after issue go straight into the
 * stream store (stream_io.c); later ones (none in this ISA) take a pending event. */
#define TSP_STREAMS_AHEAD_MAX 32
/* The largest d_func up to TSP_STREAMS_AHEAD_MAX over the instruction set
 * (sizeof of a union with one member per instruction, from the generated
 * table): the stream store keeps only as many diagonals as that needs. */
#define TSP_DECLARE_INSN(name, opcode, latency, control, units) \
    char name[(latency) <= TSP_STREAMS_AHEAD_MAX ? (latency) + 1 : 1];
union tsp_streams_ahead_u {
#include "tsp_isa.h"
};
#undef TSP_DECLARE_INSN
#define TSP_STREAMS_AHEAD ((int)sizeof(union tsp_streams_ahead_u) - 1)
typedef struct tsp_streams tsp_streams;
tsp_streams *tsp_streams_new(void);
void tsp_streams_free(tsp_streams *s);
/* The value arriving at pos at cycle t, or NULL. */
const uint8_t *tsp_streams_read(const tsp_streams *s, unsigned sid, unsigned pos, uint64_t t);
/* Put a value on the register leaving pos at cycle t.  Returns 0, 1 when another
 * value was already written there (its writer in *other; the new value wins),
 * or -1 out of memory. */
int tsp_streams_write(tsp_streams *s, unsigned sid, unsigned pos, uint64_t t, const uint8_t *data,
                      const tsp_writer *who, tsp_writer *other);
/* The same, by an instruction at cycle now (no read happens before now any
 * more): a new diagonal takes over the storage of the one that has just
 * died, which is still in cache, instead of its ring slot's (RING cycles cold). */
int tsp_streams_write_now(tsp_streams *s, uint64_t now, unsigned sid, unsigned pos, uint64_t t,
                          const uint8_t *data, const tsp_writer *who, tsp_writer *other);
/* The same, returning where the value's TSP_VECTOR_BYTES go (the caller fills
 * them before the next stream call): *rc 0, 1 (a clash, as above) or -1 with NULL. */
uint8_t *tsp_streams_put(tsp_streams *s, uint64_t now, unsigned sid, unsigned pos, uint64_t t,
                         const tsp_writer *who, tsp_writer *other, int *rc);
/* The same for the value of a MEM row (slice -1: a constant, e.g. the zero
 * vector): the store points at the row instead of copying it, so the row must
 * not change while it may be read - see tsp_streams_row_written. */
int tsp_streams_put_row(tsp_streams *s, uint64_t now, unsigned sid, unsigned pos, uint64_t t, const uint8_t *row,
                        int slice, uint32_t addr, const tsp_writer *who, tsp_writer *other);
/* Before a MEM row changes at cycle now (s may be NULL): values still pointing
 * at it get a copy.  unref_all: every value, before a host write.  0, or -1 out of memory. */
int tsp_streams_row_written(tsp_streams *s, int slice, uint32_t addr, const uint8_t *row, uint64_t now);
int tsp_streams_unref_all(tsp_streams *s);
uint64_t tsp_streams_hash(const tsp_streams *s, uint64_t now, uint64_t h);
uint64_t tsp_streams_pending(const tsp_streams *s, uint64_t now, uint64_t *last);
uint64_t tsp_streams_bytes(const tsp_streams *s);  /* host memory held */
/* Every value still in flight at cycle >= now, with the cycle it was written at
 * (for snapshots); stops at and returns the first nonzero result of fn. */
typedef int (*tsp_streams_fn)(void *ctx, unsigned sid, unsigned pos, uint64_t t, const tsp_writer *who,
                              const uint8_t *data);
int tsp_streams_each(const tsp_streams *s, uint64_t now, tsp_streams_fn fn, void *ctx);

/* ---- queues ---- */
enum { TSP_Q_EMPTY, TSP_Q_READY, TSP_Q_REPEAT, TSP_Q_PARKED, TSP_Q_DONE };

typedef struct {
    uint64_t *words;           /* lo, hi pairs */
    uint32_t nwords, next;
    uint32_t state;
    uint64_t next_cycle;
    uint64_t busy_until;
    int64_t prev_row;          /* the word issued last (-1: none) ... */
    uint64_t prev_cycle;       /* ... when ... */
    int prev_unit;             /* ... and whether a unit instruction (repeatable) */
    uint32_t rep_row;          /* repeat in progress: the instruction re-issued, */
    uint64_t rep_base, rep_k, rep_n, rep_d;  /* at rep_base + k*d for k = 1..n */
    uint64_t issued, executed;
    int64_t sync_skew;         /* the chip's clock skew when this queue last lined up with the HACs (clock.c) */
    /* The last unit instruction issued, decoded (NULL: none yet, as after a
     * snapshot restore); a repeat re-issues it from here.  Derived from
     * `words`, so snapshots leave it out and reissue() rebuilds it.  Allocated
     * on first use: it is most of a queue's size. */
    uint32_t dec_row;
    tsp_decoded *dec;
} tsp_queue;

/* Per MEM slice, per cycle: one read and one write, in different banks. */
typedef struct {
    uint64_t cycle;
    uint8_t reads, writes, rbanks, wbanks;
    int32_t rrow, raddr, waddr;
} tsp_port;

typedef struct tsp_mxm_plane tsp_mxm_plane;  /* mxm.h */

/* One C2C port of a chip (c2c.c has the rules).  A chip's array of them is
 * allocated when the first of its ports is wired, a port's receive FIFO on the
 * first vector that arrives there. */
typedef struct {
    int32_t peer;              /* chip at the other end; -1: no link on this port */
    uint32_t peer_port;
    uint32_t latency;          /* cycles from send to the vector being receivable */
    uint64_t tx_free;          /* first cycle the link takes another flit */
    uint32_t rx_head, rx_n;    /* receive FIFO: the oldest at rx_head, rx_n vectors */
    uint8_t (*rx)[TSP_VECTOR_BYTES];  /* TSP_C2C_RX_FIFO_DEPTH vectors, or NULL */
    uint64_t sent, received;   /* flits sent (vectors and notifications), vectors received */
} tsp_link;

typedef struct {
    tsp_queue q[TSP_NUM_QUEUES];
    uint8_t *mem[TSP_MEM_SLICES];     /* words x vector bytes, allocated on first write */
    tsp_port port[TSP_MEM_SLICES];
    tsp_streams *streams;             /* allocated on the first stream write */
    tsp_mxm_plane *mxm[TSP_MXM_PLANES];  /* allocated on the plane's first instruction */
    uint64_t notify[TSP_SYNC_NOTIFY_LATENCY + 1];  /* recent notify cycles, oldest first */
    uint32_t nnotify;
    uint32_t parked;
    uint64_t config_mask, ifetch_words, notifies;
    tsp_link *links;                  /* TSP_C2C_LINKS ports, NULL until one is wired */
    uint64_t sync_release;            /* pending transmit release (epoch boundary) or TSP_NO_CYCLE */
    uint64_t transmits, hacs, sacs;   /* sync instructions accounted (c2c.c) */
    uint64_t sac_offset;              /* offset of the last sac */
} tsp_chip;

/* ---- events (events.c): queue issues, C2C flits, clash reports, far writes ---- */
typedef struct {
    uint64_t cycle;
    uint64_t tie;              /* order within a cycle: issues (reads) before writes */
    uint32_t idx;              /* pending-write pool index */
} tsp_event;

typedef struct {
    uint32_t chip;
    uint8_t sid, pos;
    tsp_writer who;
    uint8_t data[TSP_VECTOR_BYTES];
} tsp_pending;

/* One cycle of the calendar (events.c): its issues, in two runs each sorted by
 * tie (iss, and iss2 for issues that came out of order), and its writes, sorted
 * by tie; `ci`/`ci2`/`cw` are how many of each have been popped. */
typedef struct {
    tsp_event *iss, *iss2, *wr;
    uint32_t ni, ci, capi, ni2, ci2, capi2, nw, cw, capw;
} tsp_bucket;

#define TSP_RING 64            /* calendar length: cycles ahead held outside the heap */

typedef struct {
    tsp_event *ev;             /* binary heap: far-future events and every C2C flit */
    size_t n, cap;
    tsp_bucket *ring;          /* TSP_RING buckets for cycles cur .. cur + TSP_RING - 1, or NULL */
    uint64_t cur;              /* cycle of the last event popped from the calendar */
    size_t ring_n;             /* events (not yet popped) in the calendar */
    tsp_pending *pool;
    uint32_t *free_list;
    size_t pool_n, pool_cap, nfree;
} tsp_events;

#define TSP_TIE_WRITE (1ULL << 63)
/* A pending "write" whose sid is one of these is a C2C arrival at port `pos`
 * of `chip` (c2c.c), not a stream write; it rides the same queue and pool. */
#define TSP_SID_C2C_VECTOR 0xF0
/* ... and one with this sid reports two writes to one place (stream_io.c). */
#define TSP_SID_CLASH 0xE0
#define TSP_SID_C2C_NOTE 0xF1
int tsp_events_push_issue(tsp_events *e, uint64_t cycle, uint32_t chip, uint32_t slot);
/* Reserve a pending write landing at cycle; fill *out before the next push. */
int tsp_events_push_write(tsp_events *e, uint64_t cycle, uint64_t seq, tsp_pending **out);
/* A C2C flit: always in the heap, where c2c.c looks for flits in flight. */
int tsp_events_push_flit(tsp_events *e, uint64_t cycle, uint64_t seq, tsp_pending **out);
/* Events not yet popped. */
static inline size_t tsp_events_count(const tsp_events *e) { return e->n + e->ring_n; }
/* Pop the next event into *out if there is one before cycle `limit`; else 0. */
int tsp_events_pop_before(tsp_events *e, uint64_t limit, tsp_event *out);
/* Steady repeat runs (steady.c) look at the calendar through these. */
typedef struct {
    const tsp_event *a, *b;    /* a bucket's two sorted runs of issues */
    uint32_t na, nb;
} tsp_event_runs;
int tsp_events_issue_cycle(const tsp_events *e, uint64_t *cycle, tsp_event_runs *out);
void tsp_events_take_issues(tsp_events *e, uint64_t cycle);
int tsp_events_peek(const tsp_events *e, tsp_event *out);
/* One event's effect, as the event loop runs it (machine.c). */
int tsp_dispatch(tsp_machine *m, const tsp_event *ev);
/* Every pending event in (cycle, tie) order, malloc'ed (NULL when none or out of memory). */
tsp_event *tsp_events_sorted(const tsp_events *e);
void tsp_events_release(tsp_events *e, uint32_t idx);
void tsp_events_free(tsp_events *e);
uint64_t tsp_events_hash(const tsp_events *e, uint64_t h);

/* ---- the machine ---- */
#define TSP_ERR_LEN 1024
#define TSP_HAZARDS_KEPT 4096

typedef struct {
    char *message;
    tsp_error_info info;
} tsp_hazard_rec;

struct tsp_machine {
    uint32_t nchips;
    tsp_chip **chips;          /* NULL until something is loaded on the chip */
    uint64_t cycle;            /* every event before this cycle has happened */
    uint64_t end_cycle;        /* 1 + last cycle with activity */
    uint64_t seq;              /* orders stream writes of one cycle */
    tsp_events events;
    int started, fault, hazard_mode;
    char err[TSP_ERR_LEN];
    tsp_error_info err_info;
    tsp_hazard_rec *hazards;   /* the first TSP_HAZARDS_KEPT, with their text */
    size_t hazards_n, hazards_cap;
    uint64_t nhazards;         /* all of them */
    tsp_stats stats;
    int64_t *drift_ppb;        /* per chip clock drift, parts per billion; NULL: none (clock.c) */
    uint64_t jitter_seed;      /* 0: every flit takes its link's latency */
    /* Steady repeat runs (steady.c): scratch for the queues of one run, and
     * the cycle before which no new run is tried after a failed attempt.
     * Neither is machine state: no snapshot or hash sees them. */
    struct tsp_steady_member *steady;
    uint32_t steady_cap;
    uint64_t steady_after;
    int steady_off;            /* tsp_set_steady_runs(m, 0): the event loop runs every cycle */
    uint64_t steady_reissues;  /* re-issues run this way since the machine was made or restored */
};

/* The chip's state, created on first use (machine.c); NULL when out of memory. */
tsp_chip *tsp_chip_get(tsp_machine *m, uint32_t chip);

/* The issuing unit, as seen by an instruction's semantics. */
struct tsp_ctx {
    tsp_machine *m;
    tsp_chip *chip;
    uint32_t chip_id;
    uint32_t slot;
    uint32_t pos;
    int slice;                 /* MEM slice of the queue, or -1 */
    uint64_t cycle;
};

/* Queue table (isa_tables.c) */
const char *tsp_queue_name(unsigned slot);
unsigned tsp_queue_pos(unsigned slot);
unsigned tsp_queue_unit(unsigned slot);
int tsp_queue_slice(unsigned slot);      /* MEM slice number, or -1 */
int tsp_queue_index(unsigned slot);      /* MXM plane, or unit number within the hemisphere */
int tsp_dtype_bytes(unsigned code);      /* 0 for an unknown code */

/* Errors (errors.c).  Every message says what, then where. */
void tsp_where_ctx(const tsp_ctx *cx, const tsp_insn *in, tsp_error_info *w);
int tsp_fail_at(tsp_machine *m, int code, const tsp_error_info *w, const char *fmt, ...);
int tsp_fail(tsp_ctx *cx, const tsp_insn *in, int code, const char *fmt, ...);
/* A schedule error: stops in TSP_HAZARDS_STOP mode, else recorded and TSP_OK. */
int tsp_hazard_at(tsp_machine *m, const tsp_error_info *w, const char *fmt, ...);
int tsp_hazard(tsp_ctx *cx, const tsp_insn *in, const char *fmt, ...);
void tsp_hazards_free(tsp_machine *m);
const char *tsp_sid_name(unsigned sid, char buf[8]);

/* Stream access for instruction semantics (exec.c) */
const uint8_t *tsp_in(tsp_ctx *cx, const tsp_insn *in, unsigned sid, int *rc);
int tsp_group(tsp_ctx *cx, const tsp_insn *in, int field, unsigned n, unsigned *base);
int tsp_out(tsp_ctx *cx, const tsp_insn *in, unsigned sid, const uint8_t *data);
/* tsp_out without the copy: *buf is where the result goes, to be filled before the next stream call. */
int tsp_out_buf(tsp_ctx *cx, const tsp_insn *in, unsigned sid, uint8_t **buf);
/* tsp_out of MEM row addr of the queue's slice (row NULL: an untouched slice, zeros). */
int tsp_out_row(tsp_ctx *cx, const tsp_insn *in, unsigned sid, const uint8_t *row, uint32_t addr);
extern const uint8_t tsp_zero_vector[TSP_VECTOR_BYTES];

/* Steady repeat runs (steady.c): many cycles of re-issues without the event
 * queue, exactly as the event loop would run them.  *ran 0: none possible here. */
int tsp_steady_run(tsp_machine *m, uint64_t limit, int *ran);

/* Queues and ICU (icu.c) */
int tsp_queue_event(tsp_machine *m, uint32_t chip, uint32_t slot, uint64_t t);
int tsp_land_write(tsp_machine *m, const tsp_event *ev);

/* Release the chip's queues parked in sync at cycle `at` (icu.c). */
int tsp_release_parked(tsp_machine *m, uint32_t chip, uint64_t at);

/* C2C (c2c.c) */
int tsp_c2c_arrive(tsp_machine *m, const tsp_event *ev);
void tsp_links_free(tsp_chip *c);
uint64_t tsp_links_hash(const tsp_chip *c, uint64_t h);

/* Clock drift and link jitter (clock.c): local cycles <-> global (HAC) time.
 * |drift| is capped at 1000 ppm, far beyond any oscillator, so the maths stays exact. */
#define TSP_DRIFT_PPB_MAX 1000000
int64_t tsp_skew(const tsp_machine *m, uint32_t chip, uint64_t local);
uint64_t tsp_global_of(const tsp_machine *m, uint32_t chip, uint64_t local);
uint64_t tsp_local_of(const tsp_machine *m, uint32_t chip, uint64_t global);
uint64_t tsp_next_epoch(const tsp_machine *m, uint32_t chip, uint64_t t);
uint64_t tsp_epoch_at_or_after(const tsp_machine *m, uint32_t chip, uint64_t t);
uint32_t tsp_flit_latency(const tsp_machine *m, uint32_t chip, uint32_t port, const tsp_link *l);
uint64_t tsp_clock_hash(const tsp_machine *m, uint64_t h);

/* MEM storage (mem.c) */
uint8_t *tsp_mem_row(tsp_chip *c, int slice, uint32_t addr, int alloc);
uint8_t *tsp_mem_slice_new(void);        /* zeroed, TSP_MEM_WORDS rows */
void tsp_mem_slice_free(uint8_t *slice);

/* The semantics of every instruction: tsp_exec_<name>.  A new instruction in
 * isa/ without its function fails the build (an unresolved symbol). */
#define TSP_DECLARE_INSN(name, op, lat, ctl, units) int tsp_exec_##name(tsp_ctx *cx, const tsp_insn *in);
#include "tsp_isa.h"
#undef TSP_DECLARE_INSN

uint64_t tsp_hash_bytes(uint64_t h, const void *data, size_t n);
uint64_t tsp_hash_u64(uint64_t h, uint64_t v);

/* Copy one stream vector.  On x86-64 GCC turns a 320-byte memcpy into
 * `rep movsq`, whose start-up cost dominates a copy this short; twenty SSE2
 * moves (baseline on every x86-64) are several times quicker.  Same bytes. */
#if defined(__SSE2__)
#include <emmintrin.h>
static inline void tsp_copy_vector(uint8_t *dst, const uint8_t *src)
{
    unsigned i;
    /* fully unrolled: the loop counter and branch were a third of the copy's instructions */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 20
#endif
    for (i = 0; i < TSP_VECTOR_BYTES; i += 16)
        _mm_storeu_si128((__m128i *)(dst + i), _mm_loadu_si128((const __m128i *)(src + i)));
}
#else
#include <string.h>
static inline void tsp_copy_vector(uint8_t *dst, const uint8_t *src)
{
    memcpy(dst, src, TSP_VECTOR_BYTES);
}
#endif

static inline void tsp_activity(tsp_machine *m, uint64_t last_cycle)
{
    if (last_cycle + 1 > m->end_cycle)
        m->end_cycle = last_cycle + 1;
}

#endif /* TSP_ENGINE_INTERNAL_H */
