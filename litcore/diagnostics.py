"""Plain-words checks of a finished run, written into summary.json and printed by `lit run` / `lit demo`."""

from __future__ import annotations

from typing import Any

STEP_SIZE_OPTIONS = "`--method lit-auto` (a step size that adapts to the backbone) or a larger fixed one " \
                    "(`--policy-opt lr=1e-3`)"


def learning_warning(totals: dict[str, Any]) -> str | None:
    """Say so when most updates ended with the adapter still failing the correction it trained on.

    Then LIT cannot propose anything useful and its savings are near zero,
    almost always because the step size is too small for the backbone.
    """
    updates, unfit = totals.get("updates") or 0, totals.get("updates_unfit") or 0
    if updates == 0 or 2 * unfit <= updates:
        return None
    return (f"learning did almost nothing: after {unfit} of {updates} updates ({100 * unfit / updates:.0f}%) "
            f"the adapter still failed the correction it was trained on (best training score below the "
            f"oracle's threshold). The step size is probably too small for this backbone; try "
            f"{STEP_SIZE_OPTIONS}.")
