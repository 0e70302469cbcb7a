"""The group runner every executor shares: all episodes of one group (video, class stream).

Episodes are independent by construction (the adapter is reset and re-seeded
from the episode id at each episode), so splitting the groups over processes
or machines gives exactly the records of a sequential run. Where the groups
run is the executor's business (`litcore.executors`: local, process, ray); what
runs is always :func:`run_group`. On a 2-core CPU two workers with one torch
thread each roughly halve a demo's wall time; one process with two threads is
*slower* for the tiny models (docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Collection, Iterator

from litcore.executors.base import GroupResult, describe_error  # noqa: F401  (re-exported)


@dataclass
class GroupFailure:
    failed_at: str          # episode id (or "group/*") where the group stopped
    error: BaseException


def group_records(exp: Any, group: str, *, skip: Collection[str] = (), order: list[str] | None = None,
                  failures: list[GroupFailure] | None = None) -> Iterator[Any]:
    """Every record of one group's episodes, as a generator; an exception ends the group.

    The exception is appended to `failures` (the generator then simply ends),
    so a caller can stream records and still learn where the group stopped.
    Episodes in `skip` (finished by an earlier attempt of a resumed run) are
    not run; `order`, if given, receives every episode id of the group in
    dataset order, so a resumed run can be written back in the order of an
    uninterrupted one.
    """
    current = f"{group}/*"
    try:
        for episode in exp.dataset.episodes(groups=[group], objects=exp.spec.objects):
            if order is not None:
                order.append(episode.episode_id)
            if episode.episode_id in skip:
                continue
            current = episode.episode_id
            yield from exp.trainer.run_episode(episode)
    except Exception as exc:  # the caller decides whether to go on
        if failures is None:
            raise
        failures.append(GroupFailure(current, exc))


def run_group(exp: Any, group: str, emit: Callable[[Any], None], *, skip: Collection[str] = (),
              order: list[str] | None = None) -> GroupFailure | None:
    """Feed every record of one group to `emit`; the failure that ended the group, if any, is returned."""
    failures: list[GroupFailure] = []
    for rec in group_records(exp, group, skip=skip, order=order, failures=failures):
        emit(rec)
    return failures[0] if failures else None
