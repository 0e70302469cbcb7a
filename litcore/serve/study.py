"""User-study mode: counterbalanced LIT on/off per participant, recorded as ordinary run directories.

Counterbalancing (order "latin"): participant k does video i with LIT when
i + k is even, so each video alternates LIT on/off across participants; the
video order is the list rotated by k // 2, so every pair of participants
(k even, k + 1) puts each condition at each position once. With an even
number of videos the conditions also alternate within a participant. For a
multiple of 2n participants every (video, condition) and (position,
condition) occurs equally often. `order = "fixed"` keeps the list order.

Each (participant, condition) is one run directory `out/<participant>/<lit|baseline>`
written by :class:`litcore.results.RunWriter`, so `lit compare` and the
annotation-time tables read human sessions exactly as they read `lit run`.
"""

from __future__ import annotations

import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litcore.errors import LitcoreError
from litcore.results import RunWriter
from litcore.serve.codec import BadInput

ORDERS = ("latin", "fixed")
CONDITIONS = {True: "lit", False: "baseline"}


class StudyError(LitcoreError):
    """A study file that cannot be used; the message names the file and the key."""


@dataclass
class Study:
    name: str
    out: Path
    videos: list[str]
    participants: list[str]
    order: str = "latin"
    seed: int = 0
    manifest: dict[str, Any] = field(default_factory=dict)
    _writers: dict[tuple[str, bool], RunWriter] = field(default_factory=dict)
    _done: dict[tuple[str, bool], set[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, path: str | Path, gallery: Any, *, manifest: dict[str, Any] | None = None) -> "Study":
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise StudyError(f"{path}: no such study file") from None
        except tomllib.TOMLDecodeError as e:
            raise StudyError(f"{path}: not valid TOML ({e})") from None
        for key in ("videos", "participants"):
            v = raw.get(key)
            if not (isinstance(v, list) and v and all(isinstance(x, str) and x for x in v)):
                raise StudyError(f"{path}: '{key}' must be a non-empty list of names")
        unknown = [v for v in raw["videos"] if v not in gallery.groups]
        if unknown:
            raise StudyError(f"{path}: videos {unknown} are not in the gallery ({', '.join(gallery.groups[:5])}...)")
        order = raw.get("order", "latin")
        if order not in ORDERS:
            raise StudyError(f"{path}: order {order!r} is not one of {', '.join(ORDERS)}")
        out = Path(raw.get("out", path.with_suffix("")))
        if not out.is_absolute():
            out = path.parent / out
        if out.exists() and any(out.rglob("steps.jsonl")):
            raise StudyError(f"{path}: out folder {out} already holds study results; choose another 'out'")
        return cls(str(raw.get("name", path.stem)), out, list(raw["videos"]), list(raw["participants"]),
                   order, int(raw.get("seed", 0)), manifest or {})

    # -- assignment ------------------------------------------------------
    def assignments(self, user: str) -> list[tuple[str, bool]]:
        """(video, LIT on?) in the order participant `user` does them."""
        if user not in self.participants:
            raise BadInput("user", f"{user!r} is not a participant of study {self.name!r}", status=404)
        k = self.participants.index(user)
        n = len(self.videos)
        shift = (k // 2) % n if self.order == "latin" else 0
        order = list(range(shift, n)) + list(range(shift))
        return [(self.videos[i], (i + k) % 2 == 0) for i in order]

    def condition(self, user: str, group: str) -> bool:
        for video, lit in self.assignments(user):
            if video == group:
                return lit
        raise BadInput("group", f"{group!r} is not assigned to participant {user!r}", status=409)

    def describe(self, user: str, manager: Any) -> dict[str, Any]:
        rows = []
        for video, lit in self.assignments(user):
            s = manager.find(user, video)
            rows.append({"group": video, "lit": lit, "done": bool(s is not None and s.done),
                         "session": None if s is None else s.id})
        return {"user": user, "study": self.name, "assignments": rows}

    # -- records ---------------------------------------------------------
    def run_dir(self, user: str, lit: bool) -> Path:
        return self.out / user / CONDITIONS[lit]

    def _writer(self, user: str, lit: bool) -> RunWriter:
        key = (user, lit)
        if key not in self._writers:
            spec = {**self.manifest.get("spec", {}), "method": "lit-lora" if lit else "baseline",
                    "adapter": self.manifest.get("spec", {}).get("adapter", "lora") if lit else "none",
                    "groups": [v for v, on in self.assignments(user) if on == lit]}
            manifest = {**self.manifest, "spec": spec,
                        "study": {"name": self.name, "participant": user, "lit": lit, "order": self.order,
                                  "assignments": [list(a) for a in self.assignments(user)]},
                        "user": "person"}
            self._writers[key] = RunWriter(self.run_dir(user, lit), manifest)
        return self._writers[key]

    def on_episode(self, session: Any, finished: Any) -> None:
        """Write one finished object's step records and metrics into the participant's run directory."""
        with self._lock:
            writer = self._writer(session.user, session.lit)
            for rec in finished.records:
                writer.write(rec)
            writer.write(finished.result)
            if len(session.finished) == len(session.episodes):  # the video's last object
                done = self._done.setdefault((session.user, session.lit), set())
                done.add(session.group)
                if done >= {v for v, on in self.assignments(session.user) if on == session.lit}:
                    writer.finish("complete")  # every video of this condition annotated: the run is whole
