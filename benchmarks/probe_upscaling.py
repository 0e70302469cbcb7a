"""Would SAM2's upscaling train faster rewritten? The B+ one-pass forward + backward with variants, alternating.

    python benchmarks/probe_upscaling.py

Variants of the adapted decoder's `output_upscaling`, swapped in place and
timed in turn (10 rounds, median): SAM2's own (`base`); its LayerNorm2d as
one `F.layer_norm` over channels-last (`ln`); each 2x2 stride-2 transposed
convolution as a 1x1 convolution and a pixel shuffle (`pshuf`); both. Prints
each one's largest logit difference from SAM2's own and its time ratio.
None was adopted (docs/performance.md): the profiler's large numbers for
these ops did not survive an end-to-end timing.
"""
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
import bench_update as bu  # noqa: E402

VARIANTS = {"base": (False, False), "ln": (True, False), "pshuf": (False, True), "both": (True, True)}


class ChannelsLastLayerNorm(nn.Module):
    """SAM2's LayerNorm2d (normalise over channels) as one fused `F.layer_norm` on a channels-last view."""

    def __init__(self, ln: nn.Module) -> None:
        super().__init__()
        self.weight, self.bias, self.eps = ln.weight, ln.bias, ln.eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, self.eps)
        return y.permute(0, 3, 1, 2)


class PixelShuffleUp(nn.Module):
    """A 2x2 stride-2 transposed convolution as a 1x1 convolution into 4x the channels and a pixel shuffle."""

    def __init__(self, up: nn.ConvTranspose2d) -> None:
        super().__init__()
        cin, cout = up.weight.shape[:2]
        weight = up.weight.detach().permute(1, 2, 3, 0).reshape(cout * 4, cin)[:, :, None, None]
        self.register_buffer("weight", weight.contiguous())
        self.register_buffer("bias", up.bias.detach().repeat_interleave(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(F.conv2d(x, self.weight, self.bias), 2)


def main() -> None:
    from litcore.plugins import build_registry

    torch.set_num_threads(2)
    reg = build_registry()
    model = reg.create("model", "sam2", config="configs/sam2.1/sam2.1_hiera_b+.yaml", checkpoint=None, device="cpu")
    sample = bu.synthetic(model, 1)[0]["native"]
    model.loss_size = bu._loss_size(model, "native")
    adapter = reg.create("adapter", "lora")
    torch.manual_seed(0)
    module = adapter.attach(model.adaptable_module(), model.adapter_targets("lora"))
    up = module.output_upscaling
    original = list(up)

    def use(fused_norm: bool, shuffle: bool) -> None:
        up[0] = PixelShuffleUp(original[0]) if shuffle else original[0]
        up[3] = PixelShuffleUp(original[3]) if shuffle else original[3]
        up[1] = ChannelsLastLayerNorm(original[1]) if fused_norm else original[1]

    def step() -> None:
        model.loss(module, [sample]).backward()

    reference = None
    for name, variant in VARIANTS.items():
        use(*variant)
        module.eval()
        with torch.no_grad():
            low, _ = model.decode(module, sample.feat, sample.high_res)
        reference = low if reference is None else reference
        print(name, "largest logit difference from SAM2's own:", (low - reference).abs().max().item())
    module.train()
    for variant in VARIANTS.values():  # warm-up
        use(*variant)
        step()
        step()
    times = {name: [] for name in VARIANTS}
    for _ in range(10):
        for name, variant in VARIANTS.items():
            use(*variant)
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["base"])
    for name, ts in times.items():
        print(f"{name}: forward + backward {1000 * statistics.median(ts):.1f} ms, "
              f"speed-up over SAM2's own {base / statistics.median(ts):.3f}x")


if __name__ == "__main__":
    main()
