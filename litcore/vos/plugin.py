"""Built-in VOS pieces (numpy only): the click oracle, DAVIS-format and synthetic datasets.

They are shared by every VOS backbone plugin (SAM2, SAMURAI, DAM4SAM) and
register through the same hooks a third-party plugin would use.
"""

from __future__ import annotations

from litcore.hookspecs import hookimpl


def _click_oracle(tau: float = 0.5, max_clicks: int = 3):
    from litcore.vos.clicks import ClickThenMaskOracle

    return ClickThenMaskOracle(tau=float(tau), max_clicks=int(max_clicks))


def davis_dataset(root: str, split: str | None = None, appearing_later: bool = True):
    """DAVIS-2017-format folders (JPEGImages/, Annotations/, optional ImageSets/<split>.txt)."""
    from litcore.vos.davis import DavisDataset
    from litcore.vos.episodes import VideoDataset

    ds = DavisDataset(root, split=split)
    return VideoDataset(ds.video_names, ds.video, appearing_later=appearing_later)


def synth_dataset(root: str | None = None, split: str = "hard", videos: int = 10, start: int = 0,
                  size: int = 128, frames: int | None = None):
    """Synthetic videos generated on the fly (deterministic from split and index)."""
    from litcore.vos.episodes import VideoDataset
    from litcore.vos.synth import make_video

    names = [f"{split}_{i:04d}" for i in range(int(start), int(start) + int(videos))]

    def load(name: str):
        index = int(name.rsplit("_", 1)[1])
        return make_video(split, index, height=int(size), width=int(size), num_frames=frames)

    return VideoDataset(lambda: list(names), load)


@hookimpl
def litcore_register_oracles(register):
    register("vos-clicks", _click_oracle, task="vos",
             description="<=3 clicks at the centre of the largest error, then the full mask (IoU tau=0.5)")


@hookimpl
def litcore_register_datasets(register):
    register("davis", davis_dataset, task="vos", description="DAVIS-2017 format: palette or per-object PNGs")
    register("synth", synth_dataset, task="vos",
             description="embedded synthetic hard-case videos, generated on the fly (no root needed)")


@hookimpl
def litcore_register_commands(subparsers):
    from litcore.vos.synth.cli import add_synth_parser

    add_synth_parser(subparsers)
