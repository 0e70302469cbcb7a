"""Per-frame schedules: paths, jumps, oscillations.

Failure modes must *recur* within a video (a distractor crossing the target
two or three times, an occluder sweeping over it repeatedly), so companions
move relative to a smoothed copy of the target path with a cosine offset:
the zero crossings of the cosine are the encounters, and cos(0) = 1 keeps
frame 0 clear so the first-frame mask is always clean.
"""

from __future__ import annotations

import numpy as np

Box = tuple[float, float, float, float]  # x_min, x_max, y_min, y_max for an object's centre


def safe_box(height: int, width: int, margin: float) -> Box:
    """Region for a centre that keeps an object of radius ~`margin` inside the frame."""
    mx = min(margin, width / 2 - 2)
    my = min(margin, height / 2 - 2)
    return (mx, width - 1 - mx, my, height - 1 - my)


def _reflect(p: float, v: float, lo: float, hi: float) -> tuple[float, float]:
    if p < lo:
        return 2 * lo - p, abs(v)
    if p > hi:
        return 2 * hi - p, -abs(v)
    return p, v


def smooth_path(rng: np.random.Generator, frames: int, box: Box, speed: float,
                start: tuple[float, float] | None = None, turn: float = 0.12) -> np.ndarray:
    """(frames, 2) x/y positions: constant speed, slowly wandering heading, bouncing off the box."""
    x0, x1, y0, y1 = box
    if start is None:
        start = (rng.uniform(x0, x1), rng.uniform(y0, y1))
    heading = rng.uniform(0, 2 * np.pi)
    vx, vy = speed * np.cos(heading), speed * np.sin(heading)
    pos = np.zeros((frames, 2))
    px, py = start
    for t in range(frames):
        pos[t] = px, py
        a = rng.normal(0, turn)
        vx, vy = vx * np.cos(a) - vy * np.sin(a), vx * np.sin(a) + vy * np.cos(a)
        px, vx = _reflect(px + vx, vx, x0, x1)
        py, vy = _reflect(py + vy, vy, y0, y1)
    return pos


def pick_frames(rng: np.random.Generator, count: int, first: int, last: int, spacing: int) -> list[int]:
    """Up to `count` sorted frames in [first, last] at least `spacing` apart, spread out."""
    if last < first:
        return []
    slots = np.linspace(first, last, count + 1)
    out: list[int] = []
    for a, b in zip(slots[:-1], slots[1:]):
        t = int(rng.integers(int(a), max(int(a) + 1, int(b))))
        if not out or t - out[-1] >= spacing:
            out.append(t)
    return out


def add_jumps(rng: np.random.Generator, path: np.ndarray, box: Box, jump_frames: list[int],
              jump_range: tuple[float, float]) -> np.ndarray:
    """Teleport the path by a large step at each jump frame (the rest of the path follows).

    The jump direction is chosen so the new position stays in the box; the
    subsequent frames are shifted by the same amount and then clamped.
    """
    x0, x1, y0, y1 = box
    out = path.copy()
    for t in jump_frames:
        cur = out[t - 1]
        best = None
        for _ in range(24):
            ang = rng.uniform(0, 2 * np.pi)
            step = rng.uniform(*jump_range) * np.array([np.cos(ang), np.sin(ang)])
            new = out[t] + step
            if x0 <= new[0] <= x1 and y0 <= new[1] <= y1 and np.hypot(*(new - cur)) >= jump_range[0]:
                best = step
                break
        if best is None:  # fall back: jump towards the centre of the box
            centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
            d = centre - cur
            best = d / max(np.hypot(*d), 1e-6) * jump_range[0] + (cur - out[t])
        out[t:] += best
        out[t:, 0] = np.clip(out[t:, 0], x0, x1)
        out[t:, 1] = np.clip(out[t:, 1], y0, y1)
    return out


def moving_average(path: np.ndarray, width: int) -> np.ndarray:
    """Smoothed copy of a (frames, k) array, edge-padded so its length is unchanged."""
    if width <= 1 or len(path) < 2:
        return path.copy()
    pad = width // 2
    padded = np.concatenate([np.repeat(path[:1], pad, 0), path, np.repeat(path[-1:], pad, 0)])
    kernel = np.ones(width) / width
    return np.stack([np.convolve(padded[:, k], kernel, mode="valid")[: len(path)]
                     for k in range(path.shape[1])], axis=1)


def encounter_offsets(frames: int, encounters: int, amplitude: float, direction: float,
                      side_offset: float, jitter: float = 0.0) -> np.ndarray:
    """(frames, 2) offsets that cross zero `encounters` times, far away on frame 0.

    The offset swings along `direction` as amplitude * cos(pi * t / half) with
    half = frames / (encounters + jitter): crossings at half/2, 3*half/2, ...
    all inside the clip, the last one early enough to re-emerge before the end.
    """
    half = frames / (max(encounters, 1) + jitter)
    t = np.arange(frames)
    s = amplitude * np.cos(np.pi * t / half)
    d = np.array([np.cos(direction), np.sin(direction)])
    n = np.array([-d[1], d[0]])
    return s[:, None] * d[None, :] + side_offset * n[None, :]


def log_oscillation(rng: np.random.Generator, frames: int, log_amp: float, cycles: tuple[float, float]
                    ) -> np.ndarray:
    """exp(log_amp * sin(...)) over the clip, with a random number of cycles in `cycles`.

    At least one full cycle means both extremes (max and min) actually occur.
    """
    n = rng.uniform(*cycles)
    phase = rng.uniform(0, 2 * np.pi)
    t = np.arange(frames)
    return np.exp(log_amp * np.sin(2 * np.pi * n * t / max(frames, 1) + phase))


def ramp(frames: int, start: int, length: int) -> np.ndarray:
    """0 before `start`, rising linearly to 1 over `length` frames, then 1."""
    t = np.arange(frames, dtype=float)
    return np.clip((t - start) / max(length, 1), 0.0, 1.0)
