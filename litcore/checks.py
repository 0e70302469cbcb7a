"""Checks of a run's settings made before anything is built, so a bad value is one line, not a traceback.

Task-neutral: the dataset's own `check_selection(groups=, objects=)` (when it
has one) says which groups and objects exist; the output folder and the
correction budget are checked here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litcore.options import OptionError


def check_spec(spec: Any) -> None:
    """Values of an `ExperimentSpec` no component could make sense of."""
    budget = spec.max_corrections
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 0):
        raise OptionError(f"max_corrections (--max-corrections) must be a whole number >= 0, got {budget!r}")


def check_selection(dataset: Any, spec: Any) -> None:
    """Groups named in the spec must exist, and there must be a group to run.

    A dataset with its own `check_selection(groups=, objects=)` (the VOS ones)
    says how to look, objects included; for any other, the names in
    `--groups` are looked up in its `groups()`.
    """
    check = getattr(dataset, "check_selection", None)
    if check is not None:
        if spec.groups or spec.objects:
            check(groups=spec.groups, objects=spec.objects)
        return
    available = list(dataset.groups())
    if not available:
        raise OptionError(f"dataset {spec.dataset!r} has no group to run with options {spec.dataset_options or {}}")
    known = set(available)
    unknown = [g for g in spec.groups or [] if g not in known]
    if unknown:
        shown = ", ".join(available[:10]) + (f", ... ({len(available)} in all)" if len(available) > 10 else "")
        raise OptionError(f"--groups: unknown group {unknown[0]!r} in dataset {spec.dataset!r}; available: {shown}")


def check_out_dir(path: str | Path, flag: str = "--out") -> Path:
    """A folder results can be written into: absent (it is created) or a directory, never a file."""
    path = Path(path)
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            what = "is a file" if p == path else f"is inside {p}, which is a file"
            raise OptionError(f"{flag} {path} {what}, not a directory")
        if p.exists():
            break
    return path
