"""Mean J of a SAM 2 checkpoint on synthetic videos: first-frame mask only, plain SAM 2 propagation.

This is the acceptance check for the exported tiny model (target: mean J >= 0.75
on `easy`). Frames go through SAM 2's own JPEG loader (quality 95) so the
measured path is exactly `init_state` -> `add_new_mask` -> `propagate_in_video`.

    python plugins/vos_sam2/training/evaluate_tiny.py --checkpoint runs/tiny/export.pt --num-videos 20
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _p in (HERE.parent, HERE.parents[2]):  # the plugin, the repo root
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from litcore.vos.masks import iou  # noqa: E402
from litcore_vos_sam2.build import build_predictor, default_checkpoint_path, default_config_path  # noqa: E402


def video_j(model, video, obj_id: int, workdir: Path) -> float:
    """Mean IoU over the frames after the object's first appearance, given only that frame's mask."""
    start = video.first_appearance(obj_id)
    if start is None or start >= len(video) - 1:
        return float("nan")
    folder = workdir / video.name
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(len(video)):
        Image.fromarray(video.image(i)).save(folder / f"{i:05d}.jpg", quality=95)
    with torch.inference_mode():
        state = model.init_state(str(folder))
        model.add_new_mask(state, frame_idx=start, obj_id=obj_id, mask=video.object_mask(start, obj_id) == 1)
        scores = []
        for idx, obj_ids, logits in model.propagate_in_video(state, start_frame_idx=start):
            if idx > start:
                pred = (logits[list(obj_ids).index(obj_id), 0] > 0).cpu().numpy()
                scores.append(iou(pred, video.object_mask(idx, obj_id)))
    return float(np.mean(scores))


def evaluate(model, videos, all_objects: bool = False, log=print) -> dict:
    """Per-video J (target object, or every object with `all_objects`) and their mean."""
    per_video = {}
    with tempfile.TemporaryDirectory() as tmp:
        for video in videos:
            target = video.meta.get("target_id", 1) if hasattr(video, "meta") else video.object_ids[0]
            objs = video.object_ids if all_objects else [target]
            js = [video_j(model, video, o, Path(tmp)) for o in objs]
            per_video[video.name] = float(np.nanmean(js))
            log(f"{video.name}: J {per_video[video.name]:.3f}")
    return {"mean_j": float(np.nanmean(list(per_video.values()))), "per_video": per_video}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=default_checkpoint_path())
    p.add_argument("--config", default=str(default_config_path()))
    p.add_argument("--override", action="append", default=[])
    p.add_argument("--split", default="easy")
    p.add_argument("--num-videos", type=int, default=10)
    p.add_argument("--first", type=int, default=0, help="index of the first video")
    p.add_argument("--all-objects", action="store_true", help="average over every labelled object, not the target")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, help="also write the result here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from litcore.vos.synth import make_video

    model = build_predictor(args.config, args.checkpoint, overrides=args.override)
    size = model.image_size
    videos = (make_video(args.split, i, height=size, width=size) for i in range(args.first, args.first + args.num_videos))
    t0 = time.time()
    result = evaluate(model, videos, all_objects=args.all_objects)
    result.update({"checkpoint": str(args.checkpoint), "split": args.split, "num_videos": args.num_videos,
                   "seconds": round(time.time() - t0, 1)})
    print(f"mean J on {args.num_videos} {args.split} videos: {result['mean_j']:.3f} ({result['seconds']} s)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
