"""Runs in checkov's own environment, not ours: import checkov early, then scan when told to.

Importing checkov and its ~1,000 checks takes seconds. `medspa check` starts this driver before it
synthesizes, so the import overlaps the synthesis; once the plans are written it sends checkov's
arguments as one JSON line on stdin. An empty line (or a closed stdin) means "never mind": exit 3.
Standard library only, plus checkov itself.
"""

from __future__ import annotations

import importlib
import json
import sys
import warnings

GAVE_UP = 3


def main() -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checkov_main = importlib.import_module("checkov.main")
        line = sys.stdin.readline()
        if not line.strip():
            return GAVE_UP
        argv = json.loads(line)
        return int(checkov_main.Checkov(argv=argv).run() or 0)


if __name__ == "__main__":
    sys.exit(main())
