"""SAMURAI's motion model: a constant-velocity box Kalman filter and the motion-aware mask choice.

Pure numpy, no torch, so every step can be checked against hand-computed
values. State (cx, cy, a, h, vcx, vcy, va, vh) with a = w / h, the
DeepSORT/ByteTrack parameterisation SAMURAI uses; noise scales with the box
height (sigma_p = 1/20, sigma_v = 1/160). Snapshots are immutable `Track`s so a
frame's record can hold the filter as it was after that frame. A user-made
mask (a correction, an accepted proposal) is one more measurement
(`observe`), so interaction does not restart the motion model's warm-up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

STD_POS = 1.0 / 20
STD_VEL = 1.0 / 160
_FLIP = np.diag([1.0] * 4 + [-1.0] * 4)


@dataclass(frozen=True)
class Track:
    """The filter after one frame: mean (8,), covariance (8, 8), frames of stable tracking, direction."""

    mean: np.ndarray
    cov: np.ndarray
    stable: int
    reverse: bool = False

    def facing(self, reverse: bool) -> "Track":
        """The same track for the other time direction: velocities change sign."""
        if reverse == self.reverse:
            return self
        return replace(self, mean=_FLIP @ self.mean, cov=_FLIP @ self.cov @ _FLIP, reverse=reverse)


class BoxKalmanFilter:
    """Constant velocity, dt = 1, measurement = the first four state entries."""

    F = np.eye(8) + np.eye(8, k=4)
    H = np.eye(4, 8)

    def initiate(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = z[3]
        std = [2 * STD_POS * h, 2 * STD_POS * h, 1e-2, 2 * STD_POS * h,
               10 * STD_VEL * h, 10 * STD_VEL * h, 1e-5, 10 * STD_VEL * h]
        return np.r_[np.asarray(z, float), np.zeros(4)], np.diag(np.square(std))

    def predict(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = mean[3]
        std = [STD_POS * h, STD_POS * h, 1e-2, STD_POS * h, STD_VEL * h, STD_VEL * h, 1e-5, STD_VEL * h]
        return self.F @ mean, self.F @ cov @ self.F.T + np.diag(np.square(std))

    def project(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = mean[3]
        r = np.diag(np.square([STD_POS * h, STD_POS * h, 1e-1, STD_POS * h]))
        return self.H @ mean, self.H @ cov @ self.H.T + r

    def update(self, mean: np.ndarray, cov: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        proj_mean, s = self.project(mean, cov)
        gain = np.linalg.solve(s, self.H @ cov).T  # P H^T S^-1 (S and P are symmetric)
        return mean + gain @ (np.asarray(z, float) - proj_mean), cov - gain @ s @ gain.T


def xyxy_to_xyah(box: np.ndarray) -> np.ndarray:
    """(x1, y1, x2, y2) -> (cx, cy, w/h, h); a zero height counts as 1 (SAMURAI's rule)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    h = h if h != 0 else 1.0
    return np.array([x1 + w / 2, y1 + h / 2, w / h, h])


def xyah_to_xyxy(z: np.ndarray) -> np.ndarray:
    cx, cy, a, h = (float(v) for v in z[:4])
    w = a * h
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one xyxy box with each of `boxes` (N, 4); an empty candidate box scores 0."""
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    iw = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    ih = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = iw * ih
    area = lambda b: np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)
    union = area(np.asarray(box, float)) + area(boxes) - inter
    empty = ~boxes.any(axis=1)
    return np.where((union > 0) & ~empty, inter / np.where(union > 0, union, 1), 0.0)


def motion_aware_choice(track: Track | None, boxes: np.ndarray, ious: np.ndarray, *, alpha: float,
                        stable_frames: int = 15, stable_iou: float = 0.3, reverse: bool = False,
                        kf: BoxKalmanFilter | None = None) -> tuple[int, Track, float | None]:
    """Pick one of the decoder's candidates; return (index, track after this frame, KF-IoU of the pick).

    Init (no track or `stable == 0`): argmax predicted IoU, start the filter.
    Warm-up (`0 < stable < stable_frames`): predict, argmax predicted IoU, update
    while it is > `stable_iou`, else restart next frame. Stable: predict, pick
    argmax of alpha * KF-IoU + (1 - alpha) * predicted IoU; restart when the
    pick's predicted IoU is < `stable_iou`, else update.
    """
    kf = kf or BoxKalmanFilter()
    ious = np.asarray(ious, float)
    if track is None or track.stable == 0:
        k = int(np.argmax(ious))
        mean, cov = kf.initiate(xyxy_to_xyah(boxes[k]))
        return k, Track(mean, cov, 1, reverse), None
    mean, cov = kf.predict(track.mean, track.cov)
    if track.stable < stable_frames:
        k = int(np.argmax(ious))
        if ious[k] > stable_iou:
            mean, cov = kf.update(mean, cov, xyxy_to_xyah(boxes[k]))
            return k, Track(mean, cov, track.stable + 1, reverse), None
        return k, Track(mean, cov, 0, reverse), None
    kf_ious = box_iou(xyah_to_xyxy(mean), boxes)
    k = int(np.argmax(alpha * kf_ious + (1 - alpha) * ious))
    if ious[k] < stable_iou:
        return k, Track(mean, cov, 0, reverse), float(kf_ious[k])
    mean, cov = kf.update(mean, cov, xyxy_to_xyah(boxes[k]))
    return k, Track(mean, cov, track.stable, reverse), float(kf_ious[k])


def observe(track: Track | None, box: np.ndarray, *, stable_frames: int = 15, reverse: bool = False,
            kf: BoxKalmanFilter | None = None) -> Track | None:
    """The filter after a frame whose mask the user made: the mask's box is a new measurement.

    SAMURAI's own filter lives on the model and prompts never reset it; here a
    correction is folded in like a confident tracked frame: predict, update,
    and one more warm-up frame counted (a stable filter stays stable). No
    filter yet, or one waiting to restart: start it from the user's box. An
    empty mask (object absent) carries the prediction without an update.
    """
    kf = kf or BoxKalmanFilter()
    box = np.asarray(box, float)
    empty = not box.any()
    if track is None or track.stable == 0:
        if empty:
            return None if track is None else replace(track, reverse=reverse)
        mean, cov = kf.initiate(xyxy_to_xyah(box))
        return Track(mean, cov, 1, reverse)
    mean, cov = kf.predict(track.mean, track.cov)
    if empty:
        return Track(mean, cov, track.stable, reverse)
    mean, cov = kf.update(mean, cov, xyxy_to_xyah(box))
    return Track(mean, cov, track.stable + 1 if track.stable < stable_frames else track.stable, reverse)
