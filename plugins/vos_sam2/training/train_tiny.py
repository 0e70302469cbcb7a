"""Train the tiny SAM 2 config from scratch on the synthetic `train` split (CPU, ~2 hours).

Our own loop instead of SAM 2's `training` package: one process, no
distributed/Hydra machinery, a wall-clock budget and exact resumption
(model, optimizer, step and every RNG are checkpointed).

    python plugins/vos_sam2/training/train_tiny.py --out runs/tiny --steps auto \\
        --max-minutes 100 --export plugins/vos_sam2/litcore_vos_sam2/checkpoints/sam2_tiny_synth.pt

Where a GPU is available, `--device cuda --batch 8 --image-batch 32 --prerender 1200
--workers 14` trained 9.8x more clips per second on an H200 (not bit-reproducible;
docs/performance.md). The CPU recipe above is the one the shipped weights follow.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _p in (HERE, HERE.parent, HERE.parents[2]):  # training/, the plugin, the repo root
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from litcore_vos_sam2.build import build_predictor, default_config_path, save_checkpoint  # noqa: E402
from tiny_data import VideoSource, sample_batch  # noqa: E402
from tiny_steps import clip_step, image_step  # noqa: E402

EXPORT_LIMIT_BYTES = 25 * 1024 * 1024
AUTO_FIRST_PLAN = 30  # session steps timed before an `--steps auto` schedule is first sized


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="run folder (checkpoints, log.jsonl); resumed if present")
    p.add_argument("--export", type=Path, help="where to write the final Meta-format checkpoint")
    p.add_argument("--config", default=str(default_config_path()))
    p.add_argument("--override", action="append", default=[], help="config dotlist override, e.g. model.image_size=64")
    p.add_argument("--steps", default="auto",
                   help="total optimizer steps (bit-reproducible), or 'auto': re-fit to --max-minutes as speed drifts")
    p.add_argument("--replan-every", type=int, default=100, help="steps between 'auto' schedule re-fits")
    p.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget; stops cleanly, saves, exports")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu", help="cpu, or cuda where a GPU is available (not bit-reproducible)")
    p.add_argument("--init", type=Path, help="start from these Meta-format weights (fresh optimizer) instead of scratch")
    p.add_argument("--prerender", type=int, default=0,
                   help="render the first N training videos up front in --workers processes (keeps a GPU fed)")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--batch", type=int, default=2, help="clips per video step")
    p.add_argument("--clip-len", type=int, default=8)
    p.add_argument("--image-batch", type=int, default=8, help="frames per image step")
    p.add_argument("--p-image", type=float, default=0.25, help="fraction of image-level steps")
    p.add_argument("--lr", type=float, default=2e-4, help="8e-4 collapsed the features from scratch")
    p.add_argument("--min-lr-ratio", type=float, default=0.05)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--clip-grad", type=float, default=1.0)
    p.add_argument("--save-every", type=int, default=250)
    p.add_argument("--log-every", type=int, default=20)
    p.add_argument("--split", default="train")
    return p.parse_args(argv)


def lr_at(step: int, total: int | None, args) -> float:
    """Linear warmup, then cosine decay to min_lr_ratio (flat until `total` is known)."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    if not total:
        return args.lr
    frac = min(1.0, (step - args.warmup) / max(1, total - args.warmup))
    return args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * frac)))


def make_optimizer(model, args) -> torch.optim.Optimizer:
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)


def latest_checkpoint(out: Path) -> Path | None:
    found = sorted(out.glob("ckpt_*.pt"))
    return found[-1] if found else None


class Run:
    """Model, optimizer, data and RNG state of one training run."""

    def __init__(self, args, make_video):
        self.args = args
        torch.manual_seed(args.seed)
        self.model = build_predictor(args.config, checkpoint=args.init, overrides=args.override, device=args.device)
        self.model.train()
        self.opt = make_optimizer(self.model, args)
        self.rng = np.random.default_rng(args.seed)
        self.source = VideoSource(make_video, args.split, self.model.image_size)
        if args.prerender:
            self.source.prerender(args.prerender, args.workers)
        self.step, self.total = 0, (None if args.steps == "auto" else int(args.steps))

    def state(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.opt.state_dict(), "step": self.step,
                "total_steps": self.total, "args": {k: str(v) for k, v in vars(self.args).items()},
                "rng": {"numpy": self.rng.bit_generator.state, "torch": torch.get_rng_state(),
                        "python": random.getstate()}}

    def save(self, keep: int = 2) -> Path:
        out = self.args.out
        path = out / f"ckpt_{self.step:07d}.pt"
        tmp = path.with_name(path.name + ".tmp")
        torch.save(self.state(), tmp)
        tmp.replace(path)
        for old in sorted(out.glob("ckpt_*.pt"))[:-keep]:
            old.unlink()
        return path

    def resume(self, path: Path) -> None:
        state = torch.load(path, map_location=self.args.device, weights_only=False)
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.step = state["step"]
        if self.args.steps == "auto":  # an explicit --steps may extend or shorten a resumed run
            self.total = state["total_steps"]
        self.rng.bit_generator.state = state["rng"]["numpy"]
        torch.set_rng_state(state["rng"]["torch"].cpu())
        random.setstate(state["rng"]["python"])

    def train_step(self) -> dict:
        args = self.args
        lr = lr_at(self.step, self.total, args)
        for group in self.opt.param_groups:
            group["lr"] = lr
        t0 = time.perf_counter()
        if self.rng.random() < args.p_image:
            kind, clip = "image", sample_batch(self.source, self.rng, args.image_batch, 1, self.step)
            t1 = time.perf_counter()
            losses, stats = image_step(self.model, clip, self.rng)
        else:
            kind, clip = "clip", sample_batch(self.source, self.rng, args.batch, args.clip_len, self.step)
            t1 = time.perf_counter()
            losses, stats = clip_step(self.model, clip, self.rng)
        self.opt.zero_grad(set_to_none=True)
        losses["total"].backward()
        grad = torch.nn.utils.clip_grad_norm_(self.model.parameters(), args.clip_grad)
        self.opt.step()
        self.step += 1
        rec = {"step": self.step, "kind": kind, "lr": lr, "grad_norm": float(grad),
               "data_s": round(t1 - t0, 3), "step_s": round(time.perf_counter() - t0, 3)}
        rec.update({f"loss_{k}": round(float(v.detach()), 5) for k, v in losses.items()})
        rec.update({k: round(v, 4) for k, v in stats.items()})
        return rec

    def export(self, path: Path, finished: bool) -> Path:
        n_bytes = sum(v.numel() * v.element_size() for v in self.model.state_dict().values())
        half = n_bytes > EXPORT_LIMIT_BYTES
        extra = {"litcore": {"config": Path(self.args.config).name, "overrides": list(self.args.override),
                             "trained_on": f"litcore.vos.synth/{self.args.split}", "seed": self.args.seed,
                             "device": str(self.args.device), "init": str(self.args.init) if self.args.init else None,
                             "step": self.step, "total_steps": self.total, "schedule_finished": finished,
                             "stored_fp16": half}}
        return save_checkpoint(self.model, path, half=half, extra=extra)


def _truncate_log(path: Path, step: int) -> None:
    """Drop log records past the resumed checkpoint, so every step appears once."""
    if path.exists():
        keep = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
        path.write_text("".join(line + "\n" for line in keep))


def main(argv=None, make_video=None) -> Run:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    if make_video is None:
        from litcore.vos.synth import make_video
    if args.steps == "auto" and args.max_minutes is None:
        raise SystemExit("--steps auto needs --max-minutes")
    args.out.mkdir(parents=True, exist_ok=True)
    run = Run(args, make_video)
    if (ck := latest_checkpoint(args.out)) is not None:
        run.resume(ck)
        print(f"resumed from {ck} at step {run.step}", flush=True)
        _truncate_log(args.out / "log.jsonl", run.step)
    budget = None if args.max_minutes is None else args.max_minutes * 60.0
    start, times = time.monotonic(), []
    n_params = sum(p.numel() for p in run.model.parameters())
    print(f"tiny SAM 2: {n_params / 1e6:.2f}M params, image {run.model.image_size}px, "
          f"{args.threads} thread(s), total steps {run.total or 'auto'}", flush=True)
    log = open(args.out / "log.jsonl", "a")
    finished = False
    while True:
        if run.total is not None and run.step >= run.total:
            finished = True
            break
        elapsed = time.monotonic() - start
        if budget is not None and elapsed + (np.mean(times[-20:]) if times else 0) + 20 > budget:
            print(f"time budget reached at step {run.step}", flush=True)
            break
        rec = run.train_step()
        times.append(rec["step_s"])
        rec["elapsed_s"] = round(time.monotonic() - start, 1)
        log.write(json.dumps(rec) + "\n")
        if args.steps == "auto" and len(times) >= AUTO_FIRST_PLAN and (
                len(times) == AUTO_FIRST_PLAN or run.step % args.replan_every == 0):
            # re-fit the schedule to the budget: the machine is shared, so the speed drifts
            window = times[-args.replan_every:]
            rate = len(window) / sum(window)
            left = budget - (time.monotonic() - start) - 60
            new_total = max(run.step + 1, run.step + int(0.95 * rate * left))
            if new_total != run.total:
                print(f"auto schedule: {rate:.3f} steps/s -> {new_total} total steps", flush=True)
            run.total = new_total
        if run.step % args.log_every == 0:
            log.flush()
            rate = len(times[-50:]) / sum(times[-50:])
            eta = (run.total - run.step) / rate if run.total else float("nan")
            print(f"step {run.step}/{run.total or '?'} {rec['kind']} loss {rec['loss_total']:.3f} "
                  f"j {rec.get('j_track', rec.get('j_final')):.3f} lr {rec['lr']:.2e} {rate:.3f} steps/s "
                  f"ETA {eta / 60:.1f} min", flush=True)
        if run.step % args.save_every == 0:
            run.save()
    log.close()
    print(f"saved {run.save()}", flush=True)
    if args.export is not None:
        print(f"exported {run.export(args.export, finished)} (schedule finished: {finished})", flush=True)
    return run


if __name__ == "__main__":
    main()
