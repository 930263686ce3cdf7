"""Running the command line inside a test: main() with captured output."""
from __future__ import annotations

from tspasm.cli.main import main


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `tspasm ARGV...` (arguments may be paths)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err
