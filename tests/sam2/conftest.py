"""Make the SAM 2 plugin importable from a plain checkout (before `pip install -e`)."""

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
for _p in (_ROOT, _ROOT / "plugins" / "vos_sam2"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))
