"""What may happen to an existing `--out`: refuse, resume the run in it, or clear it for a new one.

A run directory says how far it got (`manifest.json` "status": running,
complete, failed or stopped). A run that is killed stays "running"; its
finished episodes are exactly those in `summary.json` (rewritten atomically
after every episode, after the episode's steps were appended), so a resume
keeps those, drops every line of the episode that was cut off, and runs the
rest. Appends are one `os.write` per episode; readers skip a torn last line.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litcore.errors import LitcoreError

EXISTING = ("refuse", "resume", "overwrite")


class RunDirError(LitcoreError):
    """`--out` holds something this run may not write over."""


@dataclass
class Resume:
    """What an earlier attempt left: its finished episode rows (from summary.json) and its manifest."""

    episodes: list[dict[str, Any]] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> frozenset[str]:
        return frozenset(ep["episode_id"] for ep in self.episodes)


def append_atomic(path: Path, text: str) -> None:
    """Append `text` with one write() on an O_APPEND descriptor: a kill leaves all of it or none."""
    data = text.encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        while data:  # a regular file takes it in one call; the loop only covers a short write
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a JSON-lines file; a torn last line (killed mid-write) is skipped."""
    out = []
    text = path.read_text() if path.is_file() else ""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:  # only the unterminated tail may be torn
                break
            raise ValueError(f"{path}: line {i + 1} is not JSON") from None
    return out


def _json_or_none(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _normal(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def prepare(out: str | Path, existing: str, spec: dict[str, Any]) -> Resume | None:
    """Check `out` against `existing` (refuse | resume | overwrite); a Resume when continuing a run."""
    if existing not in EXISTING:
        raise ValueError(f"unknown existing-run mode {existing!r}; choose from {', '.join(EXISTING)}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunDirError(f"--out {out} is a file, not a folder")
    if not out.is_dir() or not any(out.iterdir()):
        return None
    manifest = _json_or_none(out / "manifest.json")
    if not isinstance(manifest, dict):
        raise RunDirError(f"--out {out} is not empty and holds no litcore run; choose an empty or new folder")
    summary = _json_or_none(out / "summary.json") or {}
    episodes = list(summary.get("episodes") or [])
    if existing == "refuse":
        raise RunDirError(f"--out {out} already holds a run ({manifest.get('status', 'unknown status')}, "
                          f"{len(episodes)} episodes): pass --resume to finish it or --overwrite to replace it")
    if existing == "overwrite":
        clear(out)
        return None
    old = manifest.get("spec")
    if _normal(old) != _normal(spec):
        keys = sorted(k for k in set(old or {}) | set(spec) if (old or {}).get(k) != _normal(spec).get(k))
        raise RunDirError(f"--resume: {out} holds a run of a different spec (differs in {', '.join(keys)}); "
                          "use --overwrite or another --out")
    return Resume(episodes, manifest)


def clear(out: Path) -> None:
    """Remove every artefact of the old run (records, summary, masks, J&F, exports), not just some."""
    for entry in out.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def run_status(run_dir: str | Path) -> str:
    """running | complete | failed | stopped, or "unknown" for runs written before statuses existed."""
    manifest = _json_or_none(Path(run_dir) / "manifest.json") or {}
    return str(manifest.get("status", "unknown"))
