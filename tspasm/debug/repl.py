"""The prompt_toolkit front end: a thin loop around Session.execute.

Everything a command does lives in session.py; this module only adds what needs
a terminal: history, completion (driven by the command registry), the bottom
toolbar, colour, Ctrl-C during a long run and "empty line repeats the last step".
"""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import Completer, Completion
from prompt_toolkit.formatted_text import ANSI
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.shortcuts import print_formatted_text

from . import links
from .commands import INFO_SUBCOMMANDS, Complete
from .session import Quit, Session

REPEATABLE = ("step", "next", "reverse-step")   # GDB/Spike: Enter runs these again


def candidates(session: Session, before_cursor: str) -> list[str]:
    """What may follow the text before the cursor (pure: tested without a terminal)."""
    words = before_cursor.split()
    if not words or (len(words) == 1 and not before_cursor.endswith(" ")):
        return session.registry.words()
    cmd = session.registry.lookup(words[0].split("/", 1)[0])
    if cmd is None:
        return []
    argn = len(words) - 1 if not before_cursor.endswith(" ") else len(words)
    kind = cmd.complete
    queues = [q.name for q in session.isa.queues]
    mems = [q.name for q in session.isa.queues if q.unit == "MEM"]
    streams = [f"S{n}{d}@" for d in "EW" for n in range(32)]
    if kind is Complete.LOCATION:
        if argn == 2 and words[1] == "queue":
            return queues
        if argn == 1:
            labels = [s.name for s in session.asm.program.symbols if s.kind == "label"]
            lines = sorted({f"{Path(p).name}:{ln}" for p, ln in session._by_line})
            return ["error", "queue", *labels, *lines]
        return []
    if kind is Complete.WATCH and argn == 2 and words[1].lower() == "link":
        return links.port_names(session.machine, session.chip)
    if argn != 1:
        return []
    return {Complete.QUEUE: queues, Complete.MEM: mems, Complete.STREAM: streams,
            Complete.VALUE: mems + streams, Complete.WATCH: ["link", *mems, *streams],
            Complete.INFO: list(INFO_SUBCOMMANDS),
            Complete.COMMAND: session.registry.words()}.get(kind, [])


class DebugCompleter(Completer):
    def __init__(self, session: Session):
        self.session = session

    def get_completions(self, document, complete_event):
        before = document.text_before_cursor
        word = document.get_word_before_cursor(WORD=True)
        for c in candidates(self.session, before):
            if c.startswith(word) and c != word:
                yield Completion(c, start_position=-len(word))


def toolbar(session: Session):
    """Bottom toolbar: where we are and why we stopped."""
    def render():
        q = session.isa.queues[session.slot].name
        return f" chip {session.chip} | queue {q} | cycle {session.machine.cycle} | {session.stop_reason}"
    return render


def _history() -> History:
    path = os.environ.get("TSPASM_DEBUG_HISTORY", str(Path.home() / ".tspasm_debug_history"))
    try:
        return FileHistory(path)
    except OSError:
        return InMemoryHistory()


class Repl:
    def __init__(self, session: Session, *, history: History | None = None, input=None, output=None,
                 color: bool = True):
        self.session = session
        session.color = color
        self.prompt = PromptSession(history=history if history is not None else _history(),
                                    completer=DebugCompleter(session), auto_suggest=AutoSuggestFromHistory(),
                                    bottom_toolbar=toolbar(session), complete_while_typing=False,
                                    input=input, output=output)
        self.output = output
        self.last_repeatable: str | None = None
        self.transcript: list[str] = []   # every text shown, so tests can read what was printed

    def _message(self) -> str:
        return f"(tsp {self.session.chip}:{self.session.machine.cycle}) "

    def show(self, text: str) -> None:
        if text:
            self.transcript.append(text)
            print_formatted_text(ANSI(text), output=self.output)

    def run_line(self, line: str) -> str:
        """Run one line with Ctrl-C mapped to `session.interrupt` (polled between engine chunks)."""
        if not line.strip():
            if self.last_repeatable is None:
                return ""
            line = self.last_repeatable
        word = line.split(maxsplit=1)[0] if line.strip() else ""
        cmd = self.session.registry.lookup(word)
        if cmd is not None and cmd.name in REPEATABLE:
            self.last_repeatable = line
        old = None
        if threading.current_thread() is threading.main_thread():
            def on_sigint(signum, frame):
                self.session.interrupt = True
            old = signal.signal(signal.SIGINT, on_sigint)
        try:
            return self.session.execute(line)
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)
            self.session.interrupt = False

    def loop(self) -> int:
        self.show(self.session.execute("context"))
        while True:
            try:
                line = self.prompt.prompt(self._message())
            except KeyboardInterrupt:
                continue          # discard the line, like every shell
            except EOFError:
                return 0
            try:
                self.show(self.run_line(line))
            except Quit:
                return 0
