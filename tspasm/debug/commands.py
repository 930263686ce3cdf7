"""The debugger's one command registry: dispatch, help and completion all read it.

litecli derives `help` from the table that dispatches commands, so help cannot
drift from what runs; we do the same, but the registry is an immutable tuple
owned by each Session (no import-time side effects for tests to reset).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Complete(enum.Enum):
    """What the REPL offers after the command word."""

    NONE = "none"
    QUEUE = "queue"          # queue names (MEM_W2, VXM0, ...)
    STREAM = "stream"        # stream names with a position (S3E@24)
    LOCATION = "location"    # break targets: cycles, file:line, labels, `queue`, `error`
    MEM = "mem"              # MEM slice names
    VALUE = "value"          # MEM slices and streams (display)
    WATCH = "watch"          # MEM slices, streams and `link`, then port names after `link`
    INFO = "info"            # info subcommands
    COMMAND = "command"      # command names (for help)


@dataclass(frozen=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    args: str                # argument synopsis, shown by help
    summary: str             # one line
    details: str             # long help
    complete: Complete
    handler: str             # Session method that runs it


INFO_SUBCOMMANDS = ("breakpoints", "watchpoints", "display", "queues", "hash", "links", "stats", "chip")

COMMANDS: tuple[Command, ...] = (
    Command("step", ("s", "si", "stepi"), "[n]", "advance n cycles (default 1)",
            "Run n cycles, stopping early at a breakpoint, a watchpoint or the end of the program.\n"
            "An empty line in the REPL repeats the last step/next/reverse-step.",
            Complete.NONE, "cmd_step"),
    Command("next", ("n",), "", "run to the next issue on the focused queue",
            "Run until the focused queue (see `queue`) issues its next instruction.",
            Complete.NONE, "cmd_next"),
    Command("continue", ("c", "cont", "run", "r"), "", "run until a breakpoint, watchpoint or the end",
            "Run forward until a breakpoint or watchpoint fires or the program halts. "
            "Ctrl-C in the REPL interrupts it.", Complete.NONE, "cmd_continue"),
    Command("until", ("u", "advance"), "<cycle>", "run to a cycle (breakpoints still stop)",
            "Run forward to the given cycle, stopping early at breakpoints and watchpoints.",
            Complete.NONE, "cmd_until"),
    Command("break", ("b", "br"), "<cycle> | file:line | queue [chip:]NAME | error",
            "set a breakpoint",
            "break 10            stop when cycle 10 is about to execute\n"
            "break prog.tsp:23   stop before every issue of an instruction from that line\n"
            "break LABEL         stop at the cycle of a label\n"
            "break queue VXM0    stop before every issue on a queue\n"
            "break error         stop just after any schedule error (hazard)",
            Complete.LOCATION, "cmd_break"),
    Command("tbreak", ("tb",), "<same as break>", "set a breakpoint that is deleted when it fires",
            "Like `break`, but the breakpoint is deleted the first time it stops the program.",
            Complete.LOCATION, "cmd_tbreak"),
    Command("delete", ("d",), "[n ...]", "delete breakpoints/watchpoints (all without n)",
            "delete 2 3 deletes numbers 2 and 3; delete alone deletes every breakpoint and watchpoint.",
            Complete.NONE, "cmd_delete"),
    Command("watch", ("w",), "[chip:]SLICE ADDR [rows] | Sn(E|W)@POS | link [chip:]Ln",
            "stop when a MEM word, a stream or a C2C link changes",
            "watch MEM_E0 0x40      stop after the 320-byte word at MEM_E0 0x40 changes\n"
            "watch MEM_E0 0x40 4    ... any of 4 words from 0x40\n"
            "watch S3E@24           stop after the value on S3E at position 24 changes\n"
            "watch link L0          stop after port L0 of the focused chip sends a vector, one arrives\n"
            "                       in its receive FIFO or a receive pops one (its sent, received, fifo\n"
            "                       or in-flight count changes); watch link 1:L0 names the chip\n"
            "Watchpoints are checked after every cycle, so running with one is slower.",
            Complete.WATCH, "cmd_watch"),
    Command("display", ("disp",), "[x/FMT ... | Sn(E|W)@POS[/type]]", "show an expression at every stop",
            "display x/1i8 MEM_E0 0x40   or   display S3E@28/i8.  Without arguments, shows them all now;\n"
            "`undisplay n` removes one.", Complete.VALUE, "cmd_display"),
    Command("undisplay", (), "[n ...]", "remove display expressions (all without n)",
            "undisplay 1 removes display 1; undisplay alone removes all of them.", Complete.NONE,
            "cmd_undisplay"),
    Command("x", (), "/<n><type> [chip:]SLICE ADDR", "examine n MEM words as i8 i16 i32 f16 f32 or x (hex)",
            "x/2i16 MEM_W2 0x10 prints two 320-lane words of i16 starting at MEM_W2 0x10 (an i16 uses\n"
            "slices MEM_W2 and MEM_W3 as byte planes). Trailing zero lanes are elided.",
            Complete.MEM, "cmd_x"),
    Command("print", ("p",), "[chip:]Sn(E|W)@POS[/type]", "print the value on a stream at a position now",
            "print S3E@24/i8 prints the 320 lanes arriving at position 24 this cycle. Wider types read\n"
            "consecutive streams as byte planes (S4E/i32 reads S4E..S7E).", Complete.STREAM, "cmd_print"),
    Command("info", ("i",), "breakpoints|display|queues [all]|hash|links|stats|chip",
            "show debugger or machine state",
            "info breakpoints   breakpoints and watchpoints with hit counts\n"
            "info queues [all]  per queue: state, next instruction, source, busy-until (non-idle only\n"
            "                   unless `all`)\n"
            "info hash          cycle and state hash (equal hashes = identical machine state)\n"
            "info links         C2C ports: peer, FIFO, flits in flight\n"
            "info stats         engine counters", Complete.INFO, "cmd_info"),
    Command("chip", (), "[n]", "focus a chip (or show the focus)",
            "Commands without an explicit chip: prefix act on the focused chip.", Complete.NONE, "cmd_chip"),
    Command("queue", ("q",), "[chip:]NAME", "focus a queue (used by next, list and the context view)",
            "queue MEM_E0 focuses MEM_E0; `next` then runs to its next issue and the context view shows\n"
            "streams near its position.", Complete.QUEUE, "cmd_queue"),
    Command("list", ("l",), "[file:line]", "show source around the instructions issuing now",
            "Without an argument, lists lines around the focused chip's instructions issuing this\n"
            "cycle (or the next ones to issue), marking them with `>`.", Complete.NONE, "cmd_list"),
    Command("context", ("ctx",), "", "print the context view again", "Prints the view shown at every stop.",
            Complete.NONE, "cmd_context"),
    Command("reverse-step", ("rs", "rsi"), "[n]", "go back n cycles (deterministic replay)",
            "Re-creates the machine and runs it from cycle 0 to the target: cost is proportional to the\n"
            "target cycle, not to n.", Complete.NONE, "cmd_reverse_step"),
    Command("reverse-continue", ("rc",), "", "go back to the previous breakpoint/watchpoint stop",
            "Replays from cycle 0 recording every stop before the current cycle, then replays to the\n"
            "last one (two replays).", Complete.NONE, "cmd_reverse_continue"),
    Command("goto", ("g",), "<cycle>", "jump to a cycle, forward or back, ignoring breakpoints",
            "Backward jumps replay from cycle 0 (cost proportional to the target cycle).",
            Complete.NONE, "cmd_goto"),
    Command("help", ("h", "?"), "[command]", "list commands, or explain one",
            "help alone lists every command; help break explains one.", Complete.COMMAND, "cmd_help"),
    Command("quit", ("exit",), "", "leave the debugger", "Also Ctrl-D.", Complete.NONE, "cmd_quit"),
)


class Registry:
    """Lookup by name or alias, and the help text, from one table."""

    def __init__(self, commands: tuple[Command, ...] = COMMANDS):
        self.commands = commands
        self._by_word: dict[str, Command] = {}
        for c in commands:
            for word in (c.name, *c.aliases):
                if word in self._by_word:
                    raise ValueError(f"debugger command word {word!r} is registered twice")
                self._by_word[word] = c

    def lookup(self, word: str) -> Command | None:
        return self._by_word.get(word)

    def words(self) -> list[str]:
        """Every command name (not aliases): what completion offers first."""
        return [c.name for c in self.commands]

    def help(self, word: str | None = None) -> str:
        if word is None:
            width = max(len(c.name) for c in self.commands)
            lines = [f"  {c.name:<{width}}  {c.summary}" for c in self.commands]
            return "commands (help NAME for details):\n" + "\n".join(lines)
        c = self.lookup(word)
        if c is None:
            raise KeyError(word)
        alias = f"  (aliases: {', '.join(c.aliases)})" if c.aliases else ""
        return f"{c.name} {c.args}".rstrip() + f"{alias}\n  {c.summary}\n\n{c.details}"
