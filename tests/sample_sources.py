"""Small programs shared by several test files."""

# Touches every part of an image: symbols, labels, inline i8 and f16 data, a repeat,
# sync/notify and an output.
SMALL_PROGRAM = """\
.equ N, 2
.data MEM_W0 0x10 i8 [1, -2, 3]
.data MEM_E2 0 f16 [[0.5, -1.0], [2.0, inf]]
start:
@0 { MEM_W0: read 0x10, S0E | MEM_W1: read 0x11, S1E }
@4 VXM0: add.i8 S0E, S1E -> S2E
VXM0: repeat N, 1
@9 { VXM1: notify | VXM2: sync }
.output out = MEM_E0 0 i8
"""
