/* MXM planes: weight buffer, installed array, products in flight, accumulators.
 *
 * State is per plane and created on the plane's first instruction (mxm.c), so a
 * chip that never touches the MXM costs four NULL pointers.  The arithmetic
 * (mxm_dot.c) is kept apart from the queue semantics (mxm.c). */
#ifndef TSP_MXM_H
#define TSP_MXM_H

#include "engine.h"

#define MXM_ROWS TSP_MXM_PLANE_ROWS
#define MXM_COLS TSP_MXM_PLANE_COLS
/* fp16 uses a plane pair: 160 fp16 rows, one byte plane per plane. */
#define MXM_F16_ROWS (MXM_ROWS / TSP_DTYPE_F16_BYTES)
/* A product is in flight for abc's d_func cycles: one ring entry per cycle. */
#define MXM_INFLIGHT (TSP_LAT_ABC + 1)

#if MXM_COLS != TSP_LANES
#error "an MXM column is a lane: plane_cols must equal lanes"
#endif

/* The product of one abc, at the accumulator stage in cycle `arrives`. */
typedef struct {
    uint64_t arrives;          /* TSP_NO_CYCLE: empty */
    uint64_t issued;           /* the abc's issue cycle, for messages */
    uint8_t dtype;             /* TSP_DTYPE_I8 (int32 lanes) or TSP_DTYPE_F16 (fp32 bits) */
    uint32_t y[MXM_COLS];
} mxm_product;

struct tsp_mxm_plane {
    uint8_t buf[MXM_ROWS][MXM_COLS];     /* rows appended by lw */
    uint32_t buf_next;                   /* the row the next lw starts at */
    /* Two arrays so an iw in cycle t leaves cycle t's abc on the old weights:
     * arr[active] is installed; arr[!active] becomes it at `install_at`. */
    int8_t arr[2][MXM_ROWS][MXM_COLS];
    int active;
    uint64_t install_at;                 /* TSP_NO_CYCLE: no install pending */
    uint64_t busy_at;                    /* last cycle an abc used the array */
    mxm_product inflight[MXM_INFLIGHT];  /* indexed by arrival cycle mod MXM_INFLIGHT */
    uint32_t *acc[TSP_MXM_ACC_SLOTS];    /* accumulator vectors, each on first use */
};

/* The installed weights of a plane as seen in cycle t (applies a due iw). */
const int8_t (*tsp_mxm_weights(tsp_mxm_plane *p, uint64_t t))[MXM_COLS];

/* y = x @ W, int8 x int8 -> exact int32. */
void tsp_mxm_dot_i8(const uint8_t x[MXM_ROWS], const int8_t (*w)[MXM_COLS], uint32_t y[MXM_COLS]);
/* y = x @ W for 160 fp16 x (lanes 0..159 of the lo/hi byte planes) and fp16
 * weights split over two planes (low bytes, high bytes): exact, rounded once to
 * fp32 bits. */
void tsp_mxm_dot_f16(const uint8_t xlo[MXM_ROWS], const uint8_t xhi[MXM_ROWS], const int8_t (*wlo)[MXM_COLS],
                     const int8_t (*whi)[MXM_COLS], uint32_t y[MXM_COLS]);
/* a + b in binary32, one rounding; NaN results are host-independent. */
uint32_t tsp_mxm_add_f32(uint32_t a, uint32_t b);

void tsp_mxm_free(tsp_chip *c);
/* Plane state as of cycle `now` (products still to arrive, the array installed then). */
uint64_t tsp_mxm_hash(const tsp_chip *c, uint64_t now, uint64_t h);

#endif /* TSP_MXM_H */
