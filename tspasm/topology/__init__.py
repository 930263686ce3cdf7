"""Multi-chip topologies: built-ins (single, pair, node, rack, system:R), custom TOML files,
and their hop metrics.  docs/topology.md describes the port assignment."""
from __future__ import annotations

from .builders import BUILTIN_NAMES, builtin, builtin_like, node, pair, rack, single, system
from .custom import load_topology, load_toml_text
from .metrics import Metrics, metrics
from .model import Link, Topology, check_links, port_hemisphere

__all__ = [
    "BUILTIN_NAMES", "Link", "Metrics", "Topology", "builtin", "builtin_like", "check_links", "load_toml_text",
    "load_topology", "metrics", "node", "pair", "port_hemisphere", "rack", "single", "system",
]
