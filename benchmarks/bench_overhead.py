"""Engine overhead with zero corrections: the LIT loop against sam2's own propagation, same video.

    python benchmarks/bench_overhead.py [--video 0] [--repeats 3] [--json benchmarks/results/overhead.json]

Three timings of one object of a generated `hard` video, interleaved:
- `sam2`: a plain `sam2.SAM2VideoPredictor` with the same weights: `init_state`
  on the frames written as JPEGs, `add_new_mask`, then `propagate_in_video`;
- `engine`: `LiveTrainer.run` with the baseline adapter and a correction budget
  of 0 (every frame is still reviewed by the oracle; nobody corrects);
- `engine-tracking`: the engine's session alone (`Session.items()`), i.e. the
  engine without the oracle's reviews.
The ratio engine / sam2 is the overhead. Reported: the median of each
repeat's own (paired) ratio, and the minimum over repeats for wall-clock and
for process CPU time (one thread); on a shared VM the drift between 1.4 s
runs is as large as the overhead itself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image


def _write_jpegs(video, folder: Path) -> None:
    for t in range(len(video)):
        Image.fromarray(video.image(t)).convert("RGB").save(folder / f"{t:05d}.jpg", quality=95)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def _paired_median(runs: list[float], reference: list[float]) -> float:
    return statistics.median(r / p for r, p in zip(runs, reference))


def time_sam2(plain, folder: Path, episode) -> tuple[float, float]:
    vo = episode.payload
    start = _clock()
    state = plain.init_state(str(folder))
    plain.add_new_mask(state, frame_idx=vo.start, obj_id=vo.obj_id,
                       mask=torch.as_tensor(vo.video.object_mask(vo.start, vo.obj_id) == 1))
    for _, _, masks in plain.propagate_in_video(state, start_frame_idx=vo.start):
        (masks[0, 0] > 0).cpu().numpy()  # the same host copy the engine makes per frame
    return _since(start)


def time_engine(trainer, episode) -> tuple[float, float]:
    start = _clock()
    for _ in trainer.run([episode]):
        pass
    return _since(start)


def time_session(model, episode) -> tuple[float, float]:
    start = _clock()
    session = model.session(episode)
    for _ in session.items():
        pass
    session.close()
    return _since(start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default="default")
    ap.add_argument("--config", default="default")
    ap.add_argument("--video", type=int, default=0)
    ap.add_argument("--frames", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from litcore.loop import LiveTrainer
    from litcore.plugins import build_registry
    from litcore.vos.episodes import video_object_episodes
    from litcore.vos.synth import make_video
    from litcore_vos_sam2.build import build_predictor, default_checkpoint_path, default_config_path

    reg = build_registry()
    ckpt = None if args.checkpoint == "null" else args.checkpoint
    model = reg.create("model", "sam2", config=args.config, checkpoint=ckpt, device="cpu")
    config = str(default_config_path()) if args.config == "default" else args.config
    plain = build_predictor(config, None, predictor_class="sam2.sam2_video_predictor.SAM2VideoPredictor")
    plain.load_state_dict(model.predictor.state_dict())  # same weights (random or embedded)
    video = make_video("hard", args.video, num_frames=args.frames)
    episode = next(video_object_episodes([video]))
    trainer = LiveTrainer(model, reg.create("oracle", "vos-clicks"), reg.create("adapter", "none"),
                          reg.create("policy", "every"), max_corrections=0)
    times: dict[str, list[float]] = {"sam2": [], "engine": [], "engine-tracking": []}
    cpu: dict[str, list[float]] = {k: [] for k in times}
    with tempfile.TemporaryDirectory() as tmp:
        _write_jpegs(video, Path(tmp))
        for _ in range(args.repeats):
            for name, timed in (("sam2", lambda: time_sam2(plain, Path(tmp), episode)),
                                ("engine", lambda: time_engine(trainer, episode)),
                                ("engine-tracking", lambda: time_session(model, episode))):
                wall, used = timed()
                times[name].append(wall)
                cpu[name].append(used)
    best = {k: min(v) for k, v in times.items()}
    best_cpu = {k: min(v) for k, v in cpu.items()}
    out = {"video": video.name, "frames": len(video), "seconds_min": best, "seconds_all": times,
           "engine_over_sam2": best["engine"] / best["sam2"],
           "tracking_over_sam2": best["engine-tracking"] / best["sam2"],
           # the median of each repeat's own ratio: the runs of one repeat follow each other, so the machine's
           # drift (seconds of it on a shared VM) cancels where the minima of separate runs do not
           "engine_over_sam2_paired_median": _paired_median(times["engine"], times["sam2"]),
           "tracking_over_sam2_paired_median": _paired_median(times["engine-tracking"], times["sam2"]),
           "cpu_seconds_min": best_cpu, "cpu_seconds_all": cpu,
           "engine_over_sam2_cpu": best_cpu["engine"] / best_cpu["sam2"],
           "tracking_over_sam2_cpu": best_cpu["engine-tracking"] / best_cpu["sam2"], "model": model.describe()}
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
