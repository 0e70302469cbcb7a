"""Update time per user correction, settings side by side in one run (JSON out).

    python benchmarks/bench_update.py                                   # embedded tiny SAM2
    python benchmarks/bench_update.py --checkpoint null --config configs/sam2.1/sam2.1_hiera_b+.yaml \
        --samples 3 --frames 3                                          # the real decoder size, random weights

Samples are real corrections: frames of generated `hard` videos whose base
prediction fails the oracle (IoU < 0.5), with the features the engine caches.
Every sample is trained from the adapter's initial state under each setting in
turn (interleaved, so machine load hits all settings alike); the policy's own
early stopping decides the steps. Settings (`SETTINGS`) are policy options plus
the model's loss resolution, so "faithful" is today's paper setting by name.
Also: the latency of a revision (the adapted decoder's proposal). Timings
depend on the machine; compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

# name -> policy options (of `policy_name`, default the paper's `every`), the model's loss resolution, LoRA options
# (`lora`; other adapters ignore them), torch threads. Two probes of what the hardware gives (for
# benchmarks/gpu_session.sh; not engine options yet): `bf16`, the whole update under CPU/CUDA bf16 autocast, and
# `compile`, the adapted decoder's forward under torch.compile with this mode ("reduce-overhead" captures CUDA
# graphs on a GPU). "faithful" is the update as it was before issue 13: the paper's two passes, the image-size
# loss, peft's LoRA layers.
PEFT = {"impl": "peft"}
# the core's layers as they were before their speed options: torch's dropout draw (bitwise peft), no reuse
NATIVE = {"impl": "native", "dropout_draw": "torch", "reuse_base": False}
FAITHFUL = {"policy": {"fast": False}, "loss_size": "image", "lora": PEFT}
FAST = {"policy": {"fast": True}, "loss_size": "native", "lora": PEFT}
SHORT = {"lr": 4e-4, "max_steps": 10, "patience": 3, "zero_check_step": 3}
SETTINGS = {
    "faithful": FAITHFUL,                                               # the paper's update, two passes per step
    "one-pass": {"policy": {"fast": True}, "loss_size": "image", "lora": PEFT},     # score from the training forward
    "native-loss": {"policy": {"fast": False}, "loss_size": "native", "lora": PEFT},  # loss at 1/4 resolution
    "fast": FAST,                                                       # both (+ fused AdamW)
    "faithful-native": {**FAITHFUL, "lora": NATIVE},                    # the paper's update, the core's LoRA layers
    "fast-native": {**FAST, "lora": NATIVE},                            # fast, the core's LoRA layers
    "fast-native-2threads": {**FAST, "lora": NATIVE, "threads": 2},
    "fast-rankdrop": {**FAST, "lora": {"dropout_at": "rank"}, "lora_only": True},  # dropout on A x, not on x
    "fast-rankdrop-2threads": {**FAST, "lora": {"dropout_at": "rank"}, "lora_only": True, "threads": 2},
    "fast-fastdraw": {**FAST, "lora": {**NATIVE, "dropout_draw": "fast"}, "lora_only": True},  # numpy's mask draw
    "fast-fastdraw-2threads": {**FAST, "lora": {**NATIVE, "dropout_draw": "fast"}, "lora_only": True, "threads": 2},
    # the LoRA adapter's defaults (the core's layers, the fast draw, reuse_base): what lit-lora runs (faithful-
    # defaults: the paper's two passes and 1024^2 loss) and the same under the one-pass update
    "faithful-defaults": {**FAITHFUL, "lora": {}},
    "fast-defaults": {**FAST, "lora": {}},
    "fast-defaults-2threads": {**FAST, "lora": {}, "threads": 2},
    "fast-nodropout": {**FAST, "lora": {**PEFT, "dropout": 0.0}, "lora_only": True},  # what LoRA dropout costs
    "fast-2threads": {**FAST, "threads": 2},
    "fast-native-bf16-2threads": {**FAST, "lora": NATIVE, "threads": 2, "bf16": True},
    "fast-native-bf16": {**FAST, "lora": NATIVE, "bf16": True},
    "fast-native-compiled": {**FAST, "lora": NATIVE, "compile": "reduce-overhead"},
    "fast-native-compiled-2threads": {**FAST, "lora": NATIVE, "compile": "reduce-overhead", "threads": 2},
    "fast-defaults-compiled-2threads": {**FAST, "lora": {}, "compile": "reduce-overhead", "threads": 2},
    "fast-short": {"policy": {"fast": True, **SHORT}, "loss_size": "native", "lora": PEFT},  # 4x lr, <= 10 steps
    # `--method lit-auto` with its defaults; the policy is reset per sample, so every update searches
    "lit-auto": {"policy_name": "calibrated", "policy": {}, "loss_size": "image"},  # (its default LoRA: native)
}


def collect(model, reg, n: int, frames: int | None, max_videos: int = 10):
    """The first n user corrections of a LIT-LoRA run over hard videos, each as {loss_size: Sample}.

    The run itself trains with the fast setting (only to get there sooner); the
    samples are what the engine hands the policy: real corrections with the
    memory-conditioned features of that moment.
    """
    from litcore.loop import LiveTrainer
    from litcore.vos.episodes import video_object_episodes
    from litcore.vos.synth import make_video

    sizes = sorted({v["loss_size"] for v in SETTINGS.values()})
    out: list[dict] = []
    policy = reg.create("policy", "every", fast=True)
    inner = policy.update

    def recording_update(adapter, learner, sample):
        out.append({size: _resample(model, sample, size) for size in sizes})
        return inner(adapter, learner, sample)

    policy.update = recording_update
    trainer = LiveTrainer(model, reg.create("oracle", "vos-clicks"), reg.create("adapter", "lora"), policy)
    videos = [make_video("hard", v, num_frames=frames) for v in range(max_videos)]
    for _ in trainer.run(video_object_episodes(videos)):
        if len(out) >= n:
            break
    return out[:n]


def synthetic(model, n: int):
    """n corrections without running the image encoder: random memory-conditioned features of the
    decoder's real shapes (256 x S/16 x S/16 plus the two high-res levels) and generated masks as targets.

    For timing the real-size decoder on a CPU, where encoding 1024-px frames would dominate the run.
    """
    from litcore.vos.synth import make_video
    from litcore_vos_sam2.task import Sample

    from litcore_vos_sam2.testing import force_objects_present

    force_objects_present(model)  # random weights may close the object gate, and then nothing trains at all
    size = model.predictor.image_size
    e = size // 16
    dec = model.adaptable_module()
    out = []
    g = torch.Generator().manual_seed(0)
    for i in range(n):
        video = make_video("hard", i, num_frames=2)
        gt = video.object_mask(1, 1)
        feat = torch.randn(1, 256, e, e, generator=g)
        hr = None
        if getattr(dec, "use_high_res_features", False):
            hr = [torch.randn(1, dec.transformer_dim // 8, 4 * e, 4 * e, generator=g),
                  torch.randn(1, dec.transformer_dim // 4, 2 * e, 2 * e, generator=g)]
        dev = model.device
        base = Sample(feat.to(dev), None if hr is None else [h.to(dev) for h in hr], torch.zeros(1), torch.zeros(1), gt)
        out.append({v["loss_size"]: _resample(model, base, v["loss_size"]) for v in SETTINGS.values()})
    return out


def _resample(model, sample, size: str):
    """The same correction with its target at another loss resolution."""
    import dataclasses

    from litcore_vos_sam2.task import loss_targets

    target, valid = loss_targets(sample.gt, _loss_size(model, size), sample.feat.device)
    return dataclasses.replace(sample, target=target, valid=valid)


def _loss_size(model, size: str) -> int:
    from litcore_vos_sam2.task import resolve_loss_size

    return resolve_loss_size(size, model.predictor.image_size)


def pctl(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


def run(model, reg, adapter_name: str, samples, settings: list[str], fixed_steps: int | None) -> dict:
    from litcore.loop import seed_everything

    # settings that only vary LoRA (its dropout) say nothing of other adapters
    settings = [s for s in settings if adapter_name == "lora" or not SETTINGS[s].get("lora_only")]
    extra = {} if fixed_steps is None else {"max_steps": fixed_steps, "patience": 10**6, "zero_check_step": 10**6}
    adapters, policies, warm = {}, {}, {}
    for s in settings:
        conf = SETTINGS[s]
        adapters[s] = reg.create("adapter", adapter_name, **(conf.get("lora", {}) if adapter_name == "lora" else {}))
        seed_everything(0)  # same initial adapter weights for every setting
        adapters[s].attach(model.adaptable_module(), model.adapter_targets(adapters[s].target_kind))
        if conf.get("compile"):  # on the adapted copy (reset loads weights in place, so it stays compiled);
            module = adapters[s].module  # the untimed warm-up below pays the compilation
            module.forward = torch.compile(module.forward, mode=conf["compile"], dynamic=False)
        name = conf.get("policy_name", "every")
        policies[s] = reg.create("policy", name, **{**conf["policy"], **extra})
        warm[s] = reg.create("policy", name, **{**conf["policy"], "max_steps": 2})
    times = {s: [] for s in settings}
    steps = {s: [] for s in settings}
    finals = {s: [] for s in settings}
    threads = torch.get_num_threads()
    for k, per_size in enumerate([None, *samples]):  # k = 0: an untimed 2-step warm-up (allocations, kernels)
        for s in settings:
            conf = SETTINGS[s]
            sample = (samples[0] if per_size is None else per_size)[conf["loss_size"]]
            model.loss_size = _loss_size(model, conf["loss_size"])
            adapters[s].reset()
            policies[s].reset()  # every sample is an episode's first correction
            seed_everything(k)
            torch.set_num_threads(conf.get("threads", threads))
            with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=bool(conf.get("bf16"))):
                rep = (warm[s] if per_size is None else policies[s]).update(adapters[s], model, sample)
            torch.set_num_threads(threads)
            if per_size is not None:
                times[s].append(rep.seconds)
                steps[s].append(rep.steps)
                finals[s].append(model.score(adapters[s].module, sample))
    res = {}
    for s in settings:
        t = times[s]
        res[s] = {"median_s": statistics.median(t), "p95_s": pctl(t, 0.95), "mean_steps": statistics.mean(steps[s]),
                  "ms_per_step": 1000 * sum(t) / sum(steps[s]), "final_iou_mean": statistics.mean(finals[s]),
                  "n": len(t), "steps": steps[s]}
    base = res[settings[0]]
    for s in settings:
        res[s]["speedup_median"] = base["median_s"] / res[s]["median_s"]
        res[s]["speedup_per_step"] = base["ms_per_step"] / res[s]["ms_per_step"]
    return {"adapter": adapter_name, "parameters": adapters[settings[0]].num_parameters(), "settings": res}


def optimizer_build_ms(model, reg, repeats: int = 50) -> float:
    """What a fresh AdamW per correction costs (the case for reusing one)."""
    adapter = reg.create("adapter", "lora")
    adapter.attach(model.adaptable_module(), model.adapter_targets("lora"))
    params = adapter.trainable_parameters()
    start = time.perf_counter()
    for _ in range(repeats):
        torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    return 1000 * (time.perf_counter() - start) / repeats


def revision_latency(model, reg, samples, repeats: int = 20) -> dict:
    """Seconds of `revise`'s decode (no grad) + upsampling, the proposal a failing frame gets."""
    import torch.nn.functional as F

    adapter = reg.create("adapter", "lora")
    adapter.attach(model.adaptable_module(), model.adapter_targets("lora"))
    s = samples[0]["image"]
    module = adapter.module.eval()
    times = []
    for i in range(repeats + 2):
        start = time.perf_counter()
        with torch.no_grad():
            low, _ = model.decode(module, s.feat.clone(), [h.clone() for h in s.high_res] if s.high_res else None)
            (F.interpolate(low, size=s.gt.shape, mode="bilinear", align_corners=False)[0, 0] > 0).cpu().numpy()
        if i >= 2:
            times.append(time.perf_counter() - start)
    return {"median_ms": 1000 * statistics.median(times), "p95_ms": 1000 * pctl(times, 0.95)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default="default")
    ap.add_argument("--config", default="default")
    ap.add_argument("--samples", type=int, default=12)
    ap.add_argument("--frames", type=int, default=None, help="frames per generated video (default: the split's)")
    ap.add_argument("--adapters", default="lora,full")
    ap.add_argument("--settings", default=",".join(SETTINGS))
    ap.add_argument("--fixed-steps", type=int, default=None, help="no early stopping: exactly this many steps")
    ap.add_argument("--synthetic", action="store_true", help="random features of the real shapes (no image encoder)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from litcore.plugins import build_registry

    reg = build_registry()
    ckpt = None if args.checkpoint == "null" else args.checkpoint
    model = reg.create("model", "sam2", config=args.config, checkpoint=ckpt, device=args.device)
    t0 = time.perf_counter()
    samples = (synthetic(model, args.samples) if args.synthetic else collect(model, reg, args.samples, args.frames))
    settings = args.settings.split(",")
    out = {"model": model.describe(), "samples": len(samples), "synthetic": args.synthetic, "collect_s": time.perf_counter() - t0,
           "fixed_steps": args.fixed_steps, "threads": args.threads,
           "machine": f"{platform.machine()} {platform.processor() or 'cpu'}", "torch": torch.__version__,
           "embedding": list(samples[0]["image"].feat.shape),
           "high_res": [list(h.shape) for h in samples[0]["image"].high_res or []],
           "revision": revision_latency(model, reg, samples),
           "optimizer_build_ms": optimizer_build_ms(model, reg),
           "updates": []}
    for a in args.adapters.split(","):  # written after each adapter, so a long run keeps what it measured
        out["updates"].append(run(model, reg, a, samples, settings, args.fixed_steps))
        print(json.dumps(out["updates"][-1]), flush=True)
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
