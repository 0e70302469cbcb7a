"""Measurements on rendered masks, so event metadata is observed rather than assumed.

The generator records what actually happened on screen (an occluder that
missed, a split hidden behind something) by measuring the rendered masks,
and rejects a draw whose claimed failure modes did not materialise.
"""

from __future__ import annotations

import numpy as np


def component_sizes(mask: np.ndarray) -> list[int]:
    """Pixel counts of the 4-connected components of a boolean mask (row-run union-find)."""
    parent: list[int] = []
    sizes: list[int] = []

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    prev: list[tuple[int, int, int]] = []  # (start, end exclusive, run id) of the previous row
    for row in np.asarray(mask, bool):
        padded = np.concatenate([[False], row, [False]])
        edges = np.flatnonzero(padded[1:] != padded[:-1])
        cur = []
        j = 0
        for s, e in zip(edges[::2], edges[1::2]):
            rid = len(parent)
            parent.append(rid)
            sizes.append(int(e - s))
            while j < len(prev) and prev[j][1] <= s:
                j += 1
            k = j
            while k < len(prev) and prev[k][0] < e:
                ra, rb = find(prev[k][2]), find(rid)
                if ra != rb:
                    parent[rb] = ra
                k += 1
            cur.append((int(s), int(e), rid))
        prev = cur
    totals: dict[int, int] = {}
    for rid, n in enumerate(sizes):
        root = find(rid)
        totals[root] = totals.get(root, 0) + n
    return sorted(totals.values(), reverse=True)


def count_components(mask: np.ndarray, min_size: int = 1) -> int:
    """Number of 4-connected components with at least `min_size` pixels."""
    return sum(1 for n in component_sizes(mask) if n >= min_size)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Square (Chebyshev) dilation by `radius` pixels, separable, no wrap-around."""
    out = np.asarray(mask, bool).copy()
    for axis in (0, 1):
        acc = out.copy()
        for r in range(1, radius + 1):
            fwd = np.zeros_like(out)
            bwd = np.zeros_like(out)
            if axis == 0:
                fwd[r:], bwd[:-r] = out[:-r], out[r:]
            else:
                fwd[:, r:], bwd[:, :-r] = out[:, :-r], out[:, r:]
            acc |= fwd | bwd
        out = acc
    return out


def centroid(mask: np.ndarray) -> tuple[float, float] | None:
    """(x, y) mean position of a mask's pixels, None when empty."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return None
    return float(xs.mean()), float(ys.mean())


def appearance(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A 6-vector describing how a region looks: per-channel mean and standard deviation."""
    px = np.asarray(image, np.float64)[np.asarray(mask, bool)]
    if len(px) == 0:
        return np.full(6, np.nan)
    return np.concatenate([px.mean(0), px.std(0)])


def appearance_distance(image: np.ndarray, mask_a: np.ndarray, mask_b: np.ndarray) -> float:
    """Euclidean distance between the `appearance` vectors of two regions (RGB units).

    Camouflage is defined as a distractor much closer to the target under this
    measure than the background is.
    """
    return float(np.linalg.norm(appearance(image, mask_a) - appearance(image, mask_b)))


def runs(frames: list[int]) -> list[list[int]]:
    """Maximal runs of consecutive frame indices as [first, last] pairs."""
    out: list[list[int]] = []
    for f in sorted(frames):
        if out and f == out[-1][1] + 1:
            out[-1][1] = f
        else:
            out.append([f, f])
    return out
