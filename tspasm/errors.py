"""Typed errors of the library.  Only the CLI turns them into messages and exit codes."""
from __future__ import annotations


class TspError(Exception):
    """Base of every error tspasm raises on purpose."""


class IsaError(TspError):
    """isa/ is malformed; the message names the file and the instruction or field."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path


class ImageError(TspError):
    """A .tspo program image is truncated, corrupt or built for another ISA."""


class UsageError(TspError):
    """A bad argument to a library function or CLI command."""


class TopologyError(TspError):
    """A topology is malformed: a bad custom TOML file (the message gives the file, the line
    where known, and the key path such as `links[3].a`) or a built-in that breaks the port budget."""
