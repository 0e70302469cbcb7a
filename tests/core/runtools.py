"""Helpers for the executor and crash tests: untimed records of a run directory, process listings."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

FAKES = ("fakeplugin", "flakyplugin")


def untimed(obj: Any) -> Any:
    """Records without wall-clock fields (the only thing allowed to differ between runs)."""
    if isinstance(obj, dict):
        return {k: untimed(v) for k, v in obj.items() if "seconds" not in k}
    if isinstance(obj, list):
        return [untimed(v) for v in obj]
    return obj


def records(run: Path) -> dict[str, Any]:
    """Everything a run wrote that must not depend on how it was run: steps, episodes, CSV rows, summary."""
    steps = [json.loads(line) for line in (run / "steps.jsonl").read_text().splitlines()]
    with open(run / "episodes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    summary = json.loads((run / "summary.json").read_text())
    return untimed({"steps": steps, "csv": rows, "episodes": summary["episodes"], "groups": summary["groups"],
                    "totals": summary["totals"]})


def manifest(run: Path) -> dict[str, Any]:
    return json.loads((run / "manifest.json").read_text())


def children(pid: int) -> list[int]:
    """Live (non-zombie) direct children of `pid`, from /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def python_env() -> dict[str, str]:
    """The environment for a subprocess that must import this checkout and the test plugins."""
    here = str(Path(__file__).resolve().parent)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([here, *os.environ.get("PYTHONPATH", "").split(os.pathsep)]),
            "OMP_NUM_THREADS": "1"}
