"""Exit codes of the CLI contract (DESIGN.md): 0 success, 1 a real finding, 2 bad input."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_BAD_INPUT = 2


class BadInput(Exception):
    """Input the operator must fix; shown as one line on stderr with exit code 2."""
