"""Train the shipped base U-Net on the TRAIN split only (deterministic; about 2.5 minutes of one CPU core).

    python3 train_base.py            # writes litcore_shapes/checkpoints/unet_shapes.pt

Clicks are simulated as the core's `mask-clicks` oracle places them: at the
centre of the largest error of the model's own click-free prediction, so the
net learns that a negative click removes a look-alike and a positive one adds
a missed part.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from litcore.masks import next_click
from litcore_shapes.data import make_stream
from litcore_shapes.model import CHECKPOINT, UNet, net_input


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=300)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--out", default=str(CHECKPOINT))
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = [make_stream("train", i, frames=12) for i in range(args.streams)]  # the shipped checkpoint's data
    images = np.concatenate([d[0] for d in data])
    masks = np.concatenate([d[1] for d in data])
    net = UNet()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for step in range(1, args.steps + 1):
        idx = rng.integers(len(images), size=args.batch)
        with torch.no_grad():
            base = net(torch.cat([net_input(images[i]) for i in idx])) > 0
        xs = []
        for b, i in enumerate(idx):
            clicks, pred = [], base[b].numpy()
            for _ in range(int(rng.integers(0, 4))):  # 0-3 error-centre clicks on the click-free prediction
                click = next_click(pred, masks[i])
                if click is None:
                    break
                clicks.append(click)
                pred = pred.copy()
                pred[max(click.y - 6, 0):click.y + 7, max(click.x - 6, 0):click.x + 7] = click.positive
            xs.append(net_input(images[i], clicks))
        loss = F.binary_cross_entropy_with_logits(net(torch.cat(xs)), torch.from_numpy(masks[idx]).float())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f"step {step}: loss {loss.item():.4f}", flush=True)
    torch.save(net.state_dict(), args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
