"""Built-in adapters, policies, methods and the binary-mask oracle, registered through the public hooks."""

from __future__ import annotations

from litcore import calibrated, policy
from litcore.adapters import AdapterPool, FullFineTune, LoraAdapter, NoAdapter
from litcore.hookspecs import hookimpl
from litcore.methods import Method
from litcore.options import declare_options

for _factory in (policy.every_correction, policy.first_correction, policy.replay):
    declare_options(_factory, policy.PolicyConfig)  # they forward **options to PolicyConfig
declare_options(calibrated.calibrated, calibrated.CalibratedConfig)
declare_options(AdapterPool, AdapterPool, LoraAdapter, skip=("member",))


@hookimpl
def litcore_register_adapters(register):
    register("none", NoAdapter, description="no adaptation (baseline)")
    register("lora", LoraAdapter, description="LoRA (rank 4, alpha 4, dropout 0.1; impl=auto|native|peft; "
             "dropout_draw, reuse_base) on the task's targets")
    register("full", FullFineTune, description="full fine-tuning of the targeted modules (LIT-FT)")
    register("lora-pool", AdapterPool,
             description="up to 3 LoRAs, best proposal chosen by the oracle, spawn when best IoU <= 0.4 (ablation)")


@hookimpl
def litcore_register_policies(register):
    register("every", policy.every_correction,
             description="train on each user correction (paper: LIT): AdamW 1e-4, <=40 steps, early stop")
    register("first", policy.first_correction,
             description="train only on the first correction (paper ablation: no continual learning)")
    register("calibrated", calibrated.calibrated,
             description="each correction; step size searched on the correction (1e-4 x3^k <=1e-2, 3 probe steps each), best probe goes on")
    register("replay", policy.replay, description="each correction plus the last k corrections (replay=k)")


@hookimpl
def litcore_register_oracles(register):
    from litcore.mask_oracle import click_oracle

    register("mask-clicks", click_oracle, prediction="binary-mask",
             description="any binary-mask task: <=3 clicks at the centre of the largest error, then the full mask (IoU tau=0.5)")


@hookimpl
def litcore_register_methods(register):
    register("baseline", Method(adapter="none"), description="the model alone; every failing item is a user correction")
    register("lit-lora", Method(adapter="lora"), description="the paper's LIT-LoRA: LoRA, fixed update (AdamW 1e-4, <=40 steps)")
    register("lit-auto", Method(adapter="lora", policy="calibrated"),
             description="LIT-LoRA with the calibrated update: each update searches its step size on the correction itself")
    register("lit-ft", Method(adapter="full"), description="the paper's LIT-FT: full fine-tuning of the task's targets")
    register("no-cl", Method(adapter="lora", policy="first"),
             description="paper ablation: train only on the first correction (no continual learning)")
    register("lit-3lora", Method(adapter="lora-pool"), description="paper ablation: a pool of up to 3 LoRAs")
    register("replace-decoder", Method(adapter="lora", mode="replace"),
             description="paper ablation: the adapted module replaces the model's own after each update")
