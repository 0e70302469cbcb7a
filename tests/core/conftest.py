"""Core tests: make the fake task plugin (tests/core/fakeplugin.py) importable by name."""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
