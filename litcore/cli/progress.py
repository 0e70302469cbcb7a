"""A progress bar fed by loop records (one tick per finished episode)."""

from __future__ import annotations

from tqdm.auto import tqdm

from litcore.loop import EpisodeRecord


class Progress:
    def __init__(self, disable: bool = False, desc: str | None = None) -> None:
        self.bar = tqdm(unit="episode", desc=desc, disable=disable or None, dynamic_ncols=True)
        self.corrections = 0
        self.auto = 0

    def update(self, rec) -> None:
        if isinstance(rec, EpisodeRecord):
            self.corrections += rec.metrics["user_corrections"]
            self.auto += rec.metrics["auto_corrections"]
            self.bar.set_postfix(episode=rec.episode_id, user=self.corrections, auto=self.auto)
            self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
