"""Built-in adapters and update policies, registered through the public hooks."""

from __future__ import annotations

from litcore import policy
from litcore.adapters import AdapterPool, FullFineTune, LoraAdapter, NoAdapter
from litcore.hookspecs import hookimpl


@hookimpl
def litcore_register_adapters(register):
    register("none", NoAdapter, description="no adaptation (baseline)")
    register("lora", LoraAdapter, description="peft LoRA (rank 4, alpha 4, dropout 0.1) on the task's targets")
    register("full", FullFineTune, description="full fine-tuning of the targeted modules (LIT-FT)")
    register("lora-pool", AdapterPool,
             description="up to 3 LoRAs, best proposal chosen by the oracle, spawn when best IoU <= 0.4 (ablation)")


@hookimpl
def litcore_register_policies(register):
    register("every", policy.every_correction,
             description="train on each user correction (paper: LIT): AdamW 1e-4, <=40 steps, early stop")
    register("first", policy.first_correction,
             description="train only on the first correction (paper ablation: no continual learning)")
    register("calibrated", policy.calibrated,
             description="each correction; step size grows from 1e-4 (x3, <=1e-2) until the correction is fitted")
    register("replay", policy.replay, description="each correction plus the last k corrections (replay=k)")
