"""Plain-words checks of a finished run, written into summary.json and printed by `lit run` / `lit demo`."""

from __future__ import annotations

from typing import Any

STEP_SIZE_OPTIONS = ("`--method lit-auto` (a step size relative to the adapted weights' scale, "
                     "`--policy-opt relative_lr=...`; `anchor=none max_lr=...` searches an absolute ladder) "
                     "or a larger fixed one (`--policy-opt lr=1e-3`)")


def learning_warning(totals: dict[str, Any]) -> str | None:
    """Say so when learning silently did nothing: most updates ended with the adapter still failing the
    correction it trained on, and few of its proposals were accepted.

    Both are needed: a task whose training score is stricter than its oracle
    (a class probability below 0.5 that is still the top-1 label) can leave
    updates "unfit" while the proposals are accepted, and then nothing is wrong.
    The usual cause is a step size too small for the backbone.
    """
    updates, unfit = totals.get("updates") or 0, totals.get("updates_unfit") or 0
    auto, user = totals.get("auto_corrections") or 0, totals.get("user_corrections") or 0
    if updates == 0 or 2 * unfit <= updates or 4 * auto >= auto + user:
        return None
    return (f"learning did almost nothing: after {unfit} of {updates} updates ({100 * unfit / updates:.0f}%) "
            f"the adapter's best training score on the correction it trained on stayed below the oracle's "
            f"threshold, and only {auto} of {auto + user} failing items were fixed by its proposals. The step size "
            f"is probably too small for this backbone; try {STEP_SIZE_OPTIONS}.")
