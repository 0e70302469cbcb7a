"""Built-in VOS pieces (numpy only): the click oracle, benchmark loaders, synthetic data, exports.

They are shared by every VOS backbone plugin (SAM2, SAMURAI, DAM4SAM) and
register through the same hooks a third-party plugin would use.
"""

from __future__ import annotations

from litcore.hookspecs import hookimpl


def davis_dataset(root: str, split: str | None = None, appearing_later: bool = True):
    """DAVIS-2017-format folders (JPEGImages/, Annotations/, optional ImageSets/<split>.txt)."""
    from litcore.vos.davis import DavisDataset
    from litcore.vos.episodes import VideoDataset

    ds = DavisDataset(root, split=split)
    return VideoDataset(ds.video_names, ds.video, appearing_later=appearing_later)


def _benchmark(kind: str, appearing_later: bool):
    """A registered factory for one of the paper's benchmarks (`litcore.vos.benchmarks`)."""
    from litcore.vos import benchmarks

    loader = getattr(benchmarks, kind)

    def factory(root: str, appearing_later: bool = appearing_later, **options):
        from litcore.vos.episodes import VideoDataset

        ds = loader(root, **options)
        return VideoDataset(ds.video_names, ds.video, appearing_later=bool(appearing_later))

    factory.__doc__ = loader.__doc__
    from litcore.options import declare_options

    return declare_options(factory, factory, loader)


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
    from litcore.mask_oracle import click_oracle

    register("vos-clicks", click_oracle, prediction="binary-mask",
             description="the VOS name of mask-clicks: <=3 error-centre clicks, then the full mask (IoU tau=0.5)")


@hookimpl
def litcore_register_datasets(register):
    register("davis", davis_dataset, task="vos", description="DAVIS-2017 format: palette or per-object PNGs")
    # appearing-later defaults follow the LIT code's per-dataset flags (reference datasets.md §2)
    register("vost", _benchmark("vost", False), task="vos",
             description="VOST: frameNNNNN names, void 255, ImageSets/<split>.txt (split=val)")
    register("lvos", _benchmark("lvos", True), task="vos",
             description="LVOS v2: objects appearing later, 8-digit sparse names, <split>_meta.json (split=valid)")
    register("mose", _benchmark("mose", False), task="vos",
             description="MOSEv2 (DAVIS-like); needs full GT (video_list= for a train subset)")
    register("sav", _benchmark("sav", False), task="vos",
             description="SA-V val/test: 24 fps frames, per-object 6 fps masks (split=val|test)")
    register("synth", synth_dataset, task="vos",
             description="embedded synthetic hard-case videos, generated on the fly (no root needed)")


@hookimpl
def litcore_register_commands(subparsers):
    from litcore.vos.synth.cli import add_synth_parser

    add_synth_parser(subparsers)
    p = subparsers.add_parser("export", help="write a run's saved masks as palette PNGs, per-object PNGs or COCO RLE")
    p.add_argument("run", help="run directory written with `lit run ... --save-masks`")
    p.add_argument("--format", action="append", required=True, choices=["palette", "per-object", "coco"],
                   help="repeatable: palette (masks/), per-object (masks_per_object/), coco (annotations.coco.json)")
    p.add_argument("--out", help="output folder (default: the run directory)")
    p.set_defaults(func=_cmd_export)


def _cmd_export(args) -> int:
    from litcore.vos.exports import export_run

    out = export_run(args.run, args.format, args.out)
    print(f"wrote {', '.join(args.format)} masks to {out}")
    return 0
