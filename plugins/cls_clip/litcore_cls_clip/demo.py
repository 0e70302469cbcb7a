"""`lit demo --task classification`: tiny CLIP, + LIT-LoRA (paper's update), + LIT-auto on synthetic birds.

Runs the embedded checkpoint on `videos` class streams spread evenly over the
27 synthetic classes (30 test images each), so it needs no downloads; without
the checkpoint it stops before running anything and says how to train it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litcore.demo import run_side_by_side, write_outputs
from litcore.experiment import ExperimentSpec
from litcore_cls_clip import synth
from litcore_cls_clip.data import stream_id

METHODS = ["baseline", "lit-lora", "lit-auto"]


def run_classification_demo(out_dir: str | Path, *, videos: int = 10, seed: int = 0, quiet: bool = False, jobs: int = 1,
                            model_options: dict[str, Any] | None = None,
                            dataset_options: dict[str, Any] | None = None,
                            policy_options: dict[str, Any] | None = None,
                            oracle_options: dict[str, Any] | None = None) -> dict[str, Any]:
    options = dict(model_options or {})
    if options.get("checkpoint", "default") == "default" and "model_name" not in options:
        from litcore_cls_clip.build import ModelLoadError, TRAIN_COMMAND, default_checkpoint_path

        path = default_checkpoint_path()
        if not path.is_file():
            raise ModelLoadError(f"the classification demo needs the embedded tiny CLIP {path}, which is missing. "
                                 f"Train it (about 1 hour on 2 CPU cores) with:\n  {TRAIN_COMMAND}")
    names = synth.class_names()
    if not 1 <= int(videos) <= len(names):
        raise ValueError(f"--videos is the number of class streams here: 1..{len(names)}, got {videos}")
    ids = [stream_id(i, n) for i, n in enumerate(names)]
    groups = [ids[(i * len(ids)) // int(videos)] for i in range(int(videos))]  # every cap/wing/tail, not just red
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = ExperimentSpec(model="clip", dataset="synth-cls", model_options=options,
                          dataset_options={"split": "test", "per_class": 30, **(dataset_options or {})},
                          groups=groups, seed=seed, policy_options=dict(policy_options or {}),
                          oracle_options=dict(oracle_options or {}))
    comparison = run_side_by_side(base, METHODS, out, quiet=quiet, jobs=jobs)
    summary, plot = write_outputs(comparison, out, "corrections_per_stream.png",
                                  "User corrections per class stream: tiny CLIP, + LIT-LoRA (paper's update), + LIT-auto (synthetic birds)")
    print(f"\nresults: {out}/<method>/summary.json; plot: {plot}")
    return summary
