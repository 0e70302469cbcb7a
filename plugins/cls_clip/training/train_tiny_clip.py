"""Train the embedded tiny CLIP on the synthetic birds (CPU, at most ~1 hour on 2 cores).

Image-text contrastive training on the `train` split: every step pairs a batch
of train images (a pool drawn once, reused with flips) with one caption per
class (class name in a random template) and minimises the image-to-caption InfoNCE loss over all captions,
i.e. CLIP's loss with the caption set as negatives (no false negatives from two
images of one class in a batch). Training stops at `--target-acc` zero-shot
accuracy on the `val` split (moderate on purpose: LIT needs errors to remove,
as CLIP's ~55% on CUB leaves them), at `--steps`, or at `--max-minutes`.
Resumable: model, optimiser, step and RNG state are saved to <out>/last.pt.

    python plugins/cls_clip/training/train_tiny_clip.py --out plugins/cls_clip/training/runs/tiny \\
        --max-minutes 55 --export plugins/cls_clip/litcore_cls_clip/checkpoints/clip_tiny_birds.pt \\
        --card docs/model-card-clip-tiny.md
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for _p in (HERE.parent, HERE.parents[2]):  # the plugin, the repo root
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from litcore_cls_clip import synth  # noqa: E402
from litcore_cls_clip.build import CONFIGS, build_clip, load_checkpoint, preprocess_for, save_checkpoint  # noqa: E402
from litcore_cls_clip.prompts import build_prompts, text_classifier  # noqa: E402

EXPORT_LIMIT_BYTES = 10 * 1024 * 1024
CARD_START, CARD_END = "<!-- metrics:start -->", "<!-- metrics:end -->"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="run folder (last.pt, log.jsonl); resumed if present")
    p.add_argument("--export", type=Path, help="write the compact checkpoint here when training stops")
    p.add_argument("--card", type=Path, help="model card whose metrics block is rewritten with the results")
    p.add_argument("--config", default="tiny", choices=sorted(CONFIGS), help="model size (micro: quick checks)")
    p.add_argument("--steps", type=int, default=6000, help="optimiser steps (the cosine schedule's length)")
    p.add_argument("--max-minutes", type=float, default=55.0, help="wall-clock budget of this invocation")
    p.add_argument("--target-acc", type=float, default=0.65, help="stop at this val zero-shot accuracy (0 = never)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--pool-per-class", type=int, default=400,
                   help="train images drawn once per class and reused with flips (0: a fresh image every time)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--val-per-class", type=int, default=20)
    p.add_argument("--test-per-class", type=int, default=30)
    p.add_argument("--save-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0, help="training seed (init, batches, templates)")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the synthetic images (the dataset's)")
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args(argv)


def lr_at(step: int, args) -> float:
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    frac = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    return args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))


def make_pool(args, preprocess) -> torch.Tensor | None:
    """(classes, per_class, 3, H, W) preprocessed train images, or None for fresh images each step."""
    if not args.pool_per_class:
        return None
    n = len(synth.bird_classes())
    return torch.stack([torch.stack([preprocess(synth.make_image(c, "train", i, args.data_seed))
                                     for i in range(args.pool_per_class)]) for c in range(n)]).half()


def batch(step: int, args, preprocess, pool) -> tuple[torch.Tensor, torch.Tensor]:
    """The images of one step: a pure function of (seed, step), so a resumed run sees the same batches."""
    rng = np.random.default_rng([args.seed, step])
    labels = rng.integers(0, len(synth.bird_classes()), args.batch)
    if pool is None:
        idx = step * args.batch + np.arange(args.batch)
        images = torch.stack([preprocess(synth.make_image(int(c), "train", int(i), args.data_seed))
                              for c, i in zip(labels, idx)])
    else:
        images = pool[torch.as_tensor(labels), torch.as_tensor(rng.integers(0, pool.shape[1], args.batch))].float()
        flip = torch.as_tensor(rng.random(args.batch) < 0.5)
        images = torch.where(flip[:, None, None, None], images.flip(-1), images)
    return images, torch.as_tensor(labels)


def accuracy(model, tokenizer, preprocess, split: str, per_class: int, data_seed: int) -> float:
    model.eval()
    text = text_classifier(model, tokenizer, synth.class_names(), synth.TEMPLATES)
    correct = total = 0
    items = synth.split_items(split, per_class, data_seed)
    with torch.no_grad():
        for i in range(0, len(items), 128):
            chunk = items[i:i + 128]
            x = torch.stack([preprocess(synth.make_image(c, split, j, data_seed)) for c, j in chunk])
            pred = (F.normalize(model.encode_image(x), dim=-1) @ text.t()).argmax(-1)
            correct += int((pred == torch.as_tensor([c for c, _ in chunk])).sum())
            total += len(chunk)
    model.train()
    return correct / total


def token_ids(tokenizer) -> torch.Tensor:
    """Every token id the prompts use: the rows of the token embedding worth exporting."""
    prompts = [p for group in build_prompts(synth.class_names(), synth.TEMPLATES) for p in group]
    return torch.unique(tokenizer(prompts))


def save_state(path: Path, model, opt, step: int, log: list) -> None:
    state = {"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "log": log,
             "rng": {"torch": torch.get_rng_state(), "python": random.getstate()}}
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def write_card(card: Path, metrics: dict) -> None:
    text = card.read_text() if card.is_file() else f"# Model card\n\n{CARD_START}\n{CARD_END}\n"
    rows = "\n".join(f"| {k} | {v} |" for k, v in metrics.items())
    block = f"{CARD_START}\n| measured | value |\n|---|---|\n{rows}\n{CARD_END}"
    card.write_text(re.sub(re.escape(CARD_START) + ".*?" + re.escape(CARD_END), lambda _: block, text, flags=re.S))


def main(argv=None) -> int:
    import open_clip

    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    cfg = CONFIGS[args.config]
    model = build_clip(cfg, seed=args.seed)
    tokenizer = open_clip.SimpleTokenizer(context_length=cfg["text_cfg"]["context_length"])
    preprocess = preprocess_for(model)
    decay = [p for p in model.parameters() if p.ndim >= 2]
    other = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": other, "weight_decay": 0.0}], lr=args.lr)
    step, log, last = 0, [], args.out / "last.pt"
    if last.is_file():
        state = torch.load(last, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, log = state["step"], state["log"]
        torch.set_rng_state(state["rng"]["torch"])
        random.setstate(state["rng"]["python"])
        print(f"resumed at step {step}")
    prompts = build_prompts(synth.class_names(), synth.TEMPLATES)
    pool = make_pool(args, preprocess)
    start, t_last, val_acc, reason = time.time(), time.time(), None, "steps"
    model.train()
    while step < args.steps:
        if (time.time() - start) / 60 > args.max_minutes:
            reason = "max-minutes"
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args)
        x, y = batch(step, args, preprocess, pool)
        pick = random.Random(f"{args.seed}:{step}")
        captions = [group[pick.randrange(len(group))] for group in prompts]
        img = F.normalize(model.encode_image(x), dim=-1)
        txt = F.normalize(model.encode_text(tokenizer(captions)), dim=-1)
        loss = F.cross_entropy(model.logit_scale.exp() * img @ txt.t(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        step += 1
        if step % 20 == 0:
            rate = 20 / (time.time() - t_last)
            t_last = time.time()
            print(f"step {step} loss {loss.item():.3f} lr {lr_at(step, args):.2e} {rate:.2f} steps/s", flush=True)
        if step % args.eval_every == 0 or step == args.steps:
            val_acc = accuracy(model, tokenizer, preprocess, "val", args.val_per_class, args.data_seed)
            log.append({"step": step, "loss": loss.item(), "val_acc": val_acc, "minutes": (time.time() - start) / 60})
            print(f"step {step}: val zero-shot accuracy {val_acc:.3f}", flush=True)
            with open(args.out / "log.jsonl", "a") as f:
                f.write(json.dumps(log[-1]) + "\n")
            save_state(last, model, opt, step, log)
            if args.target_acc and val_acc >= args.target_acc:
                reason = "target-acc"
                break
        elif step % args.save_every == 0:
            save_state(last, model, opt, step, log)
    save_state(last, model, opt, step, log)
    if val_acc is None or (log and log[-1]["step"] != step):
        val_acc = accuracy(model, tokenizer, preprocess, "val", args.val_per_class, args.data_seed)
    test_acc = accuracy(model, tokenizer, preprocess, "test", args.test_per_class, args.data_seed)
    metrics = {"steps": step, "stopped by": reason, "val zero-shot accuracy": round(val_acc, 4),
               "test zero-shot accuracy": round(test_acc, 4), "seed": args.seed, "data seed": args.data_seed,
               "minutes (this invocation)": round((time.time() - start) / 60, 1),
               "train images seen": step * args.batch}
    print(json.dumps(metrics, indent=2))
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    if args.export:
        path = save_checkpoint(model, args.export, cfg, token_ids(tokenizer), meta=metrics)
        size = path.stat().st_size
        print(f"exported {path} ({size / 1e6:.2f} MB)")
        if size > EXPORT_LIMIT_BYTES:
            raise SystemExit(f"{path} is {size} bytes, over the {EXPORT_LIMIT_BYTES}-byte limit")
        loaded, _, _ = load_checkpoint(path)  # the exported file must reproduce the accuracy
        check = accuracy(loaded, tokenizer, preprocess, "test", args.test_per_class, args.data_seed)
        metrics["test accuracy of the exported file"] = round(check, 4)
        metrics["checkpoint MB"] = round(size / 1e6, 2)
    if args.card:
        write_card(args.card, metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
