"""VOS name of the task-neutral click oracle (kept so existing imports work).

The oracle and the click geometry live in :mod:`litcore.mask_oracle` and
:mod:`litcore.masks`; they work on any binary-mask prediction.
"""

from litcore.mask_oracle import ClickThenMaskOracle
from litcore.masks import error_centre as _error_centre
from litcore.masks import next_click

__all__ = ["ClickThenMaskOracle", "next_click", "_error_centre"]
