"""The `tspasm` command line: the only place that prints diagnostics and exits."""
