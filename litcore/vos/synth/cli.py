"""`lit synth`: write synthetic videos to disk as a DAVIS tree plus `meta.json`.

Writing to disk lets the same clips feed every loader (training scripts,
the demo, external tools) and makes the benchmark inspectable by eye. Runs
with `--start` add to an existing folder: `meta.json` and the split list are
merged rather than overwritten, so a large train set can be built in chunks.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from litcore.vos.davis import write_davis
from litcore.vos.synth.generator import SPLITS, make_video


def add_synth_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `synth` subcommand to an argparse subparsers object."""
    p = subparsers.add_parser(
        "synth", help="generate the procedural synthetic VOS benchmark (DAVIS format)",
        description="Write deterministic synthetic videos as JPEGImages/ + Annotations/ (DAVIS layout), "
                    "DIR/meta.json (failure-mode metadata per video) and DIR/ImageSets/<split>.txt.")
    p.add_argument("--split", choices=SPLITS, default="hard", help="which split to draw from (default: hard)")
    p.add_argument("--videos", type=int, default=10, help="number of videos (default: 10)")
    p.add_argument("--out", required=True, help="output dataset root")
    p.add_argument("--size", type=int, default=128, help="square frame size in pixels (default: 128)")
    p.add_argument("--frames", type=int, default=None,
                   help="frames per video (default: train 16-24, easy 24, hard 48)")
    p.add_argument("--start", type=int, default=0, help="index of the first video (default: 0)")
    p.set_defaults(func=run_synth)
    return p


def _merge_list(path: Path, names: list[str]) -> None:
    old = path.read_text().split() if path.is_file() else []
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{n}\n" for n in sorted(set(old) | set(names))))


def run_synth(args: argparse.Namespace) -> int:
    """Generate `args.videos` videos; returns a process exit code."""
    if args.videos < 1 or args.start < 0 or args.size < 48 or (args.frames is not None and args.frames < 2):
        print("lit synth: need --videos >= 1, --start >= 0, --size >= 48 and --frames >= 2", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta_path = out / "meta.json"
    try:
        metas = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    except json.JSONDecodeError as e:
        print(f"lit synth: existing {meta_path} is not valid JSON ({e}); move it away first", file=sys.stderr)
        return 2
    names = []
    t0 = time.perf_counter()
    for i in range(args.start, args.start + args.videos):
        video = make_video(args.split, i, height=args.size, width=args.size, num_frames=args.frames)
        write_davis(video, out)
        metas[video.name] = video.meta
        names.append(video.name)
    # one video per line: readable, diffable, and not a line per number
    body = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(metas.items()))
    meta_path.write_text("{\n" + body + "\n}\n")
    _merge_list(out / "ImageSets" / f"{args.split}.txt", names)
    print(f"wrote {len(names)} {args.split} videos ({names[0]} .. {names[-1]}) to {out} "
          f"in {time.perf_counter() - t0:.1f}s")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (`python -m litcore.vos.synth.cli synth ...`) until `lit` wires it in."""
    parser = argparse.ArgumentParser(prog="lit")
    add_synth_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
