"""A small U-Net that takes the image and the user's clicks, wrapped as a litcore task model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from litcore.masks import iou, target_to_bool
from litcore.task import Session, TaskModel
from litcore.types import Click, Item, MaskAction

CHECKPOINT = Path(__file__).parent / "checkpoints" / "unet_shapes.pt"
LR = 1e-2  # a small net trained from scratch needs a far larger step than SAM2's pretrained decoder (README)


def block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())


class UNet(nn.Module):
    """Input: RGB + positive and negative click maps (5 channels); output: mask logits."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        w = width
        self.enc1, self.enc2, self.mid = block(5, w), block(w, 2 * w), block(2 * w, 4 * w)
        self.up2, self.dec2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2), block(4 * w, 2 * w)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2), block(2 * w, w)
        self.head = nn.Conv2d(w, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        m = self.mid(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], 1))
        return self.head(self.dec1(torch.cat([self.up1(d2), e1], 1)))[:, 0]


def net_input(image: np.ndarray, clicks=()) -> torch.Tensor:
    """(1, 5, H, W): the image in [0, 1] and a disc of radius 3 per positive / negative click."""
    h, w, _ = image.shape
    maps = np.zeros((2, h, w), np.float32)
    y, x = np.mgrid[:h, :w]
    for c in clicks:
        maps[0 if c.positive else 1][(y - c.y) ** 2 + (x - c.x) ** 2 <= 9] = 1.0
    rgb = image.transpose(2, 0, 1).astype(np.float32) / 255.0
    return torch.from_numpy(np.concatenate([rgb, maps]))[None]


class ShapesSession(Session):
    def __init__(self, model: "ShapesUNet", episode) -> None:
        self.model, (self.images, self.masks) = model, episode.payload
        self.clicks: list[Click] = []

    def _predict(self, module: nn.Module, index: int, clicks=()) -> np.ndarray:
        with torch.no_grad():
            return (module(net_input(self.images[index], clicks))[0] > 0).numpy()

    def items(self):
        for t in range(len(self.images)):
            self.clicks = []
            yield Item(t, f"frame{t:03d}", self._predict(self.model.net, t), self.masks[t])

    def apply(self, item, action):
        if isinstance(action, MaskAction):
            return target_to_bool(np.asarray(action.mask))
        self.clicks.append(action)
        return self._predict(self.model.net, item.index, self.clicks)

    def revise(self, item, module):
        module.eval()
        return self._predict(module, item.index)

    def training_sample(self, item):
        return net_input(self.images[item.index]), torch.from_numpy(self.masks[item.index]).float()[None]


class ShapesUNet(TaskModel):
    task, default_oracle, prediction_kind = "shapes", "mask-clicks", "binary-mask"
    group_noun, score_name = "stream", "IoU"

    def __init__(self, checkpoint: str | None = "default", width: int = 8, seed: int = 0) -> None:
        torch.manual_seed(seed)  # random weights (checkpoint=None) are reproducible
        self.net, self.checkpoint = UNet(width).eval(), checkpoint
        if checkpoint is not None:
            path = CHECKPOINT if checkpoint == "default" else Path(checkpoint)
            self.net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))

    def session(self, episode) -> ShapesSession:
        return ShapesSession(self, episode)

    def adaptable_module(self) -> nn.Module:
        return self.net

    def adapter_targets(self, adapter: str):
        # the encoder's convolutions: only colour tells a target from its look-alikes (chosen on split=train, README)
        return {"lora": r"(enc1|enc2)\.[02]", "full": r"enc1|enc2"}.get(adapter)

    def default_policy_options(self, policy: str) -> dict:
        return {"lr": LR} if policy in ("every", "first", "replay") else {}

    def loss(self, module, samples) -> torch.Tensor:
        x, y = torch.cat([s[0] for s in samples]), torch.cat([s[1] for s in samples])
        return F.binary_cross_entropy_with_logits(module(x), y)

    def score(self, module, sample) -> float:
        return iou((module(sample[0])[0] > 0).numpy(), sample[1][0].numpy().astype(np.uint8))

    def describe(self) -> dict:
        return {"name": "shapes-unet", "checkpoint": str(self.checkpoint)}
