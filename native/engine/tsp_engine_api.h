/* The public API of the TSP-1 cycle engine.
 *
 * Declarations only: no #include, no macros, no include guard, because the
 * cffi build script (tspasm/engine/_build.py) feeds this very file to
 * ffi.cdef().  C users include tsp_engine.h, which wraps it.
 *
 * Rules: the machine is an opaque handle; every call that can fail returns a
 * status (TSP_OK = 0); tsp_strerror() names a status and tsp_last_error() gives
 * the details of the last failure on a handle (chip, cycle, queue, instruction).
 * Reads copy into caller buffers; nothing returns interior pointers.
 */

typedef struct tsp_machine tsp_machine;

enum {
    TSP_OK = 0,
    TSP_E_NOMEM = 1,           /* out of host memory */
    TSP_E_ARG = 2,             /* a bad argument (chip, slot, address, size) */
    TSP_E_IMAGE = 3,           /* the program is malformed (illegal word, wrong ISA) */
    TSP_E_STATE = 4,           /* the call is not allowed now (e.g. load after run) */
    TSP_E_SCHEDULE = 5,        /* a schedule error: missing value, two writers, bank ports */
    TSP_E_FAULT = 6,           /* an address fault */
    TSP_E_UNIMPLEMENTED = 7,   /* an instruction this engine does not model yet */
    TSP_E_DEADLOCK = 8,        /* queues parked in sync that no notify releases */
    TSP_E_SNAPSHOT = 9         /* a corrupt snapshot, or one from another engine, ISA or machine */
};

enum {
    TSP_STOP_HALTED = 0,       /* every queue finished and nothing is in flight */
    TSP_STOP_CYCLE_LIMIT = 1   /* the cycle budget of tsp_run ran out first */
};

enum {
    TSP_HAZARDS_STOP = 0,      /* a schedule error stops the run (default) */
    TSP_HAZARDS_WARN = 1       /* record it, carry on (missing values read as zero) */
};

/* Where the last error happened; -1 / 0 when a part does not apply. */
typedef struct {
    int code;
    int32_t chip;
    uint64_t cycle;
    int32_t slot;              /* queue of the instruction at fault */
    int32_t row;               /* its word index in that queue */
    int64_t repeat;            /* 0 = the issue itself, k = k-th re-issue by repeat */
    int32_t slot2;             /* the other instruction of a two-writer conflict */
    int32_t row2;
} tsp_error_info;

typedef struct {
    uint32_t state;            /* 0 empty, 1 ready, 2 repeating, 3 parked, 4 done */
    uint32_t next_row;         /* the next word to issue */
    uint32_t rows;             /* words in the queue */
    uint64_t next_cycle;       /* when the queue acts next (ready or repeating) */
    uint64_t busy_until;       /* last cycle the queue is occupied so far */
    uint64_t issued;           /* words issued */
    uint64_t executed;         /* unit instructions executed, re-issues included */
    /* While repeating (state 2): the word being re-issued, and which re-issue comes
       at next_cycle (1..repeat_n).  Zero otherwise. */
    uint32_t repeat_row;
    uint64_t repeat_k, repeat_n;
} tsp_queue_info;

typedef struct {
    uint64_t config_mask;      /* superlane power mask set by config (all on at reset) */
    uint64_t ifetch_words;     /* words requested by ifetch (accounted, not modelled) */
    uint64_t notifies;
    uint64_t mem_slices;       /* MEM slices allocated so far (lazily, on first write) */
    uint64_t mxm_planes;       /* MXM planes allocated so far (lazily, on first instruction) */
    uint64_t transmits;        /* transmit notifications sent */
    uint64_t hacs;             /* hac instructions (calibration: accounted, a no-op without drift) */
    uint64_t sacs;             /* sac instructions (accounted) */
    uint64_t sac_offset;       /* offset of the last sac */
    int64_t drift_ppb;         /* clock drift, parts per billion (tsp_chip_drift_set) */
    int64_t skew;              /* local minus global (HAC) time at the current cycle */
} tsp_chip_info;

typedef struct {
    int32_t peer_chip;         /* -1: no link on this port */
    uint32_t peer_port;
    uint32_t latency;          /* cycles from send to receivable */
    uint64_t tx_free;          /* first cycle the link takes another flit */
    uint32_t fifo;             /* vectors waiting in this port's receive FIFO */
    uint32_t in_flight;        /* flits on their way to this port (vectors and notifications) */
    uint64_t sent;             /* flits sent from this port */
    uint64_t received;         /* vectors popped by receive on this port */
} tsp_link_info;

typedef struct {
    uint64_t events;           /* queue events and stream writes processed */
    uint64_t issued;           /* words issued on all chips */
    uint64_t executed;         /* unit instructions executed, re-issues included */
    uint64_t stream_writes;
} tsp_stats;

const char *tsp_isa_fingerprint(void);
/* sha256 of the engine sources this library was compiled from ("unknown" if not told). */
const char *tsp_engine_source_hash(void);
const char *tsp_strerror(int code);

int tsp_create(uint32_t nchips, tsp_machine **out);
void tsp_destroy(tsp_machine *m);
const char *tsp_last_error(const tsp_machine *m);
int tsp_last_error_info(const tsp_machine *m, tsp_error_info *out);

/* Refuses an image built from another isa/ (the fingerprints differ). */
int tsp_check_fingerprint(tsp_machine *m, const char *image_fingerprint);
int tsp_set_hazard_mode(tsp_machine *m, int mode);

/* One queue's words: nwords x 16 bytes, little-endian 128-bit; an all-zero word
 * ends the stream.  Before the first tsp_run only. */
int tsp_load_queue(tsp_machine *m, uint32_t chip, uint32_t slot, const uint8_t *words, uint64_t nwords);

/* Raw MEM rows of one slice (its queue slot): rows x 320 bytes. */
int tsp_mem_write(tsp_machine *m, uint32_t chip, uint32_t slot, uint32_t addr, uint32_t rows,
                  const uint8_t *data);
int tsp_mem_read(const tsp_machine *m, uint32_t chip, uint32_t slot, uint32_t addr, uint32_t rows,
                 uint8_t *out);

/* The weights installed in an MXM plane as of the current cycle: 320 rows x
 * 320 int8 (row k multiplies activation element k); zeros before any iw. */
int tsp_mxm_weights_read(const tsp_machine *m, uint32_t chip, uint32_t plane, int8_t *out);

/* C2C wiring (c2c.c), before the first tsp_run: join port_a of chip_a to port_b
 * of chip_b, latency >= 1 cycles.  TSP_E_ARG for a port that already has a link. */
int tsp_link_set(tsp_machine *m, uint32_t chip_a, uint32_t port_a, uint32_t chip_b, uint32_t port_b,
                 uint32_t latency);
/* TSP_E_IMAGE, naming chip, port and instruction, when a loaded send, receive,
 * transmit or hac uses a port with no link. */
int tsp_links_check(tsp_machine *m);
/* Optional realism (clock.c), before the first tsp_run.  The chip's clock runs
 * drift_ppb parts per billion fast (negative: slow), |drift_ppb| <= 10^6.
 * A nonzero seed gives every flit a latency drawn around its link's latency
 * within c2c.link_latency_min..max; 0 switches jitter off. */
int tsp_chip_drift_set(tsp_machine *m, uint32_t chip, int64_t drift_ppb);
int tsp_jitter_set(tsp_machine *m, uint64_t seed);
int tsp_link_info_get(const tsp_machine *m, uint32_t chip, uint32_t port, tsp_link_info *out);
/* Host bytes the engine holds for this machine now (chips, MEM, streams, MXM, links, events). */
int tsp_memory_bytes(const tsp_machine *m, uint64_t *out);

/* Advance at most max_cycles cycles (UINT64_MAX: until the program ends). */
int tsp_run(tsp_machine *m, uint64_t max_cycles, int *stop);
/* Steady repeat runs (steady.c) are on by default; off, the event loop runs
 * every cycle.  Either way gives the same machine state; the count of
 * re-issues run as steady runs is host-side (no snapshot or hash has it). */
int tsp_set_steady_runs(tsp_machine *m, int enable);
int tsp_steady_reissues(const tsp_machine *m, uint64_t *out);
int tsp_cycle(const tsp_machine *m, uint64_t *out);
/* 1 + the last cycle with any activity so far (issue, busy queue, stream write). */
int tsp_end_cycle(const tsp_machine *m, uint64_t *out);

/* The value of stream sid (0-31 east, 32-63 west) arriving at position pos in
 * the current cycle; *present = 0 when nothing is there. */
int tsp_stream_peek(const tsp_machine *m, uint32_t chip, uint32_t sid, uint32_t pos, uint8_t *out,
                    int *present);
int tsp_queue_info_get(const tsp_machine *m, uint32_t chip, uint32_t slot, tsp_queue_info *out);
int tsp_chip_info_get(const tsp_machine *m, uint32_t chip, tsp_chip_info *out);
int tsp_stats_get(const tsp_machine *m, tsp_stats *out);

/* Schedule errors recorded in TSP_HAZARDS_WARN mode (the first ones keep their text). */
int tsp_hazard_count(const tsp_machine *m, uint64_t *out);
int tsp_hazard_get(const tsp_machine *m, uint64_t index, char *message, size_t size, tsp_error_info *info);

/* A hash of the whole machine state (cycle, queues, MEM, values in flight). */
int tsp_state_hash(const tsp_machine *m, uint64_t *out);

/* Snapshots (snapshot.c): the whole machine - every chip's queues with their
 * words, MEM, values in flight, MXM planes, pending writes, counters, hazard
 * log, last error, cycle - as one self-contained byte string.  Loading it and
 * running on is bit-identical to never having saved.  Only an engine built from
 * the same sources and ISA, with the same chip count, loads it. */
int tsp_snapshot_size(const tsp_machine *m, uint64_t *out);
/* Writes exactly tsp_snapshot_size() bytes; TSP_E_ARG when len is smaller. */
int tsp_snapshot_save(const tsp_machine *m, uint8_t *buf, uint64_t len);
/* Replaces the whole state.  TSP_E_SNAPSHOT for a corrupt or foreign snapshot,
 * and then the machine is left exactly as it was. */
int tsp_snapshot_load(tsp_machine *m, const uint8_t *buf, uint64_t len);

/* Host write of one stream register: the value arriving at pos in the current
 * cycle becomes data, and flows on from there like any written value.  Nothing
 * arrives at the upstream edge (pos 0 eastward, the last position westward). */
int tsp_stream_poke(tsp_machine *m, uint32_t chip, uint32_t sid, uint32_t pos, const uint8_t *data);
