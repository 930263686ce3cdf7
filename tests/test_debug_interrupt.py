"""Ctrl-C during a long `continue` returns to the prompt: a real `tspasm debug` process, a real SIGINT.

The REPL maps SIGINT to Session.interrupt only while a command runs (polled between engine
chunks); at the prompt Ctrl-C discards the line.  So the signal is sent only after the prompt
has echoed the accepted `continue` line and a further second has passed, by which time the
command is inside its engine loop (the program would take hours to reach its end there).
No timing is asserted: every wait has a generous limit and only guards against a hang.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery to a child is POSIX")

NOP = 4_000_000_000               # one nop's count (a 32-bit field)
NOPS = 50
END = NOP * NOPS + 3              # the program's length in cycles: 2e11, hours of `continue`


class Child:
    """`tspasm debug` with piped stdin/stdout; a thread collects stdout so waits never block."""

    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        self.out = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        while chunk := self.proc.stdout.read1(65536):
            self.out.extend(chunk)

    def send(self, text: str) -> None:
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def wait_for(self, pattern: bytes, timeout: float = 120.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, bytes(self.out))
            if m:
                return m
            if self.proc.poll() is not None:
                time.sleep(0.2)   # let the reader drain what the process wrote last
                m = re.search(pattern, bytes(self.out))
                if m:
                    return m
                break
            time.sleep(0.05)
        err = self.proc.stderr.read().decode(errors="replace") if self.proc.poll() is not None else ""
        raise AssertionError(f"never saw {pattern!r}; exit status {self.proc.poll()}; output tail:\n"
                             f"{bytes(self.out)[-2000:].decode(errors='replace')}\nstderr:\n{err}")


def test_ctrl_c_interrupts_a_long_continue_and_the_prompt_comes_back(tmp_path):
    prog = tmp_path / "long.tsp"
    lines = [f"@{k * NOP} VXM0: nop {NOP}" for k in range(NOPS)] + [f"@{NOPS * NOP} VXM0: nop 3"]
    prog.write_text("\n".join(lines) + "\n")
    env = dict(os.environ, TSPASM_DEBUG_HISTORY=str(tmp_path / "history"))
    env.pop("TSPASM_DEBUG", None)
    child = Child([sys.executable, "-m", "tspasm.cli.main", "debug", str(prog)], env)
    try:
        child.wait_for(rb"-- start of program")             # the context view: the REPL is up
        child.send("continue\n")
        child.wait_for(rb"\(tsp 0:0\) continue\r?\n")       # the prompt accepted the line
        time.sleep(1.0)                                     # ... and the command is running
        os.kill(child.proc.pid, signal.SIGINT)
        stop = child.wait_for(rb"-- cycle (\d+)  chip 0  queue VXM0 \(position 24\) -- interrupted")
        cycle = int(stop.group(1))
        assert 0 < cycle < END                              # stopped part-way, not at either end
        child.send("info hash\n")                           # the prompt is back and takes commands
        child.wait_for(rf"cycle {cycle} state hash 0x[0-9a-f]{{16}}".encode())
        child.send("step 5\n")
        child.wait_for(rf"-- cycle {cycle + 5}  chip 0 .* -- stepped 5 cycles".encode())
        child.send("quit\n")
        assert child.proc.wait(timeout=60) == 0
        err = child.proc.stderr.read().decode(errors="replace")
        assert "Traceback" not in err and "interrupted" not in err   # not main()'s KeyboardInterrupt exit
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
            child.proc.wait(timeout=30)
