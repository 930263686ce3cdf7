/* Instructions of units this engine does not model yet (C2C).
 * Each still has its tsp_exec_<name> so the opcode table is complete; issuing
 * one stops the run with TSP_E_UNIMPLEMENTED and the instruction named. */
#include "engine.h"

#define UNIMPLEMENTED(insn) \
    int tsp_exec_##insn(tsp_ctx *cx, const tsp_insn *in) \
    { \
        return tsp_fail(cx, in, TSP_E_UNIMPLEMENTED, "%s is not implemented by this engine yet", in->op->name); \
    }

/* C2C */
UNIMPLEMENTED(send)
UNIMPLEMENTED(receive)
UNIMPLEMENTED(transmit)
UNIMPLEMENTED(hac)
UNIMPLEMENTED(sac)
