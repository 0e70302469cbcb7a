"""Plain-words checks of a finished run, written into summary.json and printed by `lit run` / `lit demo`."""

from __future__ import annotations

from typing import Any

STEP_SIZE_OPTIONS = ("`--method lit-auto` (a step size that grows within each update, up to "
                     "`--policy-opt max_lr=...`) or a larger fixed one (`--policy-opt lr=1e-3`)")


def learning_warning(totals: dict[str, Any]) -> str | None:
    """Say so when most updates ended with the adapter still failing the correction it trained on.

    Then the adapter's proposals are rarely good enough to accept and LIT saves
    little, almost always because the step size is too small for the backbone.
    """
    updates, unfit = totals.get("updates") or 0, totals.get("updates_unfit") or 0
    if updates == 0 or 2 * unfit <= updates:
        return None
    return (f"most updates did not fit the correction they trained on: after {unfit} of {updates} updates "
            f"({100 * unfit / updates:.0f}%) the adapter's best training score stayed below the oracle's "
            f"threshold, so its proposals are rarely good enough to accept. The step size is probably too small "
            f"for this backbone; try {STEP_SIZE_OPTIONS}.")
