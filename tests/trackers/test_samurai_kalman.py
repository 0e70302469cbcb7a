"""SAMURAI's Kalman filter and motion-aware choice against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from litcore_vos_samurai.kalman import (BoxKalmanFilter, Track, box_iou, motion_aware_choice, xyah_to_xyxy,
                                        xyxy_to_xyah)
from litcore_vos_samurai.predictor import mask_boxes

SP, SV = 1 / 20, 1 / 160


def test_initiate_uses_height_scaled_stds():
    mean, cov = BoxKalmanFilter().initiate(np.array([10.0, 20.0, 0.5, 40.0]))
    assert np.array_equal(mean, [10, 20, 0.5, 40, 0, 0, 0, 0])
    expected = np.array([2 * SP * 40, 2 * SP * 40, 1e-2, 2 * SP * 40, 10 * SV * 40, 10 * SV * 40, 1e-5, 10 * SV * 40])
    np.testing.assert_allclose(np.diag(cov), expected ** 2)
    assert np.count_nonzero(cov - np.diag(np.diag(cov))) == 0


def test_predict_is_constant_velocity_with_process_noise():
    kf = BoxKalmanFilter()
    mean = np.array([10.0, 20.0, 0.5, 40.0, 2.0, -1.0, 0.01, 0.5])
    rng = np.random.default_rng(0)
    a = rng.normal(size=(8, 8))
    cov = a @ a.T + np.eye(8)
    m2, c2 = kf.predict(mean, cov)
    np.testing.assert_allclose(m2, [12, 19, 0.51, 40.5, 2, -1, 0.01, 0.5])
    f = np.eye(8)
    for i in range(4):
        f[i, i + 4] = 1.0
    q = np.diag(np.square([SP * 40, SP * 40, 1e-2, SP * 40, SV * 40, SV * 40, 1e-5, SV * 40]))
    np.testing.assert_allclose(c2, f @ cov @ f.T + q, rtol=1e-12)
    # a position entry picks up its velocity's variance and the cross terms
    assert c2[0, 0] == pytest.approx(cov[0, 0] + 2 * cov[0, 4] + cov[4, 4] + (SP * 40) ** 2)


def test_update_matches_the_textbook_kalman_gain():
    kf = BoxKalmanFilter()
    rng = np.random.default_rng(1)
    a = rng.normal(size=(8, 8))
    p = a @ a.T + 0.5 * np.eye(8)
    mean = np.array([50.0, 60.0, 0.8, 20.0, 1.0, 0.5, 0.0, 0.2])
    z = np.array([52.0, 59.0, 0.75, 21.0])
    h = np.hstack([np.eye(4), np.zeros((4, 4))])
    r = np.diag(np.square([SP * 20, SP * 20, 1e-1, SP * 20]))
    k = p @ h.T @ np.linalg.inv(h @ p @ h.T + r)
    m2, c2 = kf.update(mean, p, z)
    np.testing.assert_allclose(m2, mean + k @ (z - h @ mean), rtol=1e-9)
    np.testing.assert_allclose(c2, (np.eye(8) - k @ h) @ p, rtol=1e-7, atol=1e-9)
    # the update pulls the position toward the measurement
    assert abs(m2[0] - z[0]) < abs(mean[0] - z[0])


def test_box_conversions_and_iou():
    np.testing.assert_allclose(xyxy_to_xyah([10, 20, 30, 60]), [20, 40, 0.5, 40])
    np.testing.assert_allclose(xyah_to_xyxy(np.array([20, 40, 0.5, 40])), [10, 20, 30, 60])
    np.testing.assert_allclose(xyxy_to_xyah([0, 0, 0, 0]), [0, 0.5, 0, 1])  # zero height counts as 1
    ious = box_iou(np.array([0, 0, 10, 10.0]), np.array([[5, 0, 15, 10], [0, 0, 10, 10], [0, 0, 0, 0]]))
    np.testing.assert_allclose(ious, [50 / 150, 1.0, 0.0])


def test_mask_boxes_are_tight_inclusive_pixel_boxes():
    m = torch.full((3, 16, 16), -5.0)
    m[0, 2:5, 3:9] = 4.0
    m[1, 10, 12] = 1.0
    boxes = mask_boxes(m)
    np.testing.assert_array_equal(boxes, [[3, 2, 8, 4], [12, 10, 12, 10], [0, 0, 0, 0]])


def _box(x, y=10.0, w=20.0, h=30.0):
    return np.array([x, y, x + w, y + h])


def _warm_track(frames=15, speed=3.0):
    """Feed a box moving right `speed` px/frame until the filter is stable."""
    track = None
    for t in range(frames):
        boxes = np.stack([_box(10 + speed * t), _box(200), _box(300)])
        k, track, kf_iou = motion_aware_choice(track, boxes, [0.9, 0.5, 0.4], alpha=0.25)
        assert k == 0
        assert kf_iou is None  # no KF-weighted choice before the filter is stable
    return track


def test_phases_init_warmup_and_stable():
    k, track, kf_iou = motion_aware_choice(None, np.stack([_box(0), _box(50), _box(90)]), [0.2, 0.7, 0.5], alpha=0.25)
    assert (k, track.stable, kf_iou) == (1, 1, None)
    # warm-up: a weak best candidate (IoU <= 0.3) restarts the filter on the next frame
    k, weak, _ = motion_aware_choice(track, np.stack([_box(0), _box(50), _box(90)]), [0.1, 0.3, 0.2], alpha=0.25)
    assert k == 1 and weak.stable == 0
    assert motion_aware_choice(weak, np.stack([_box(5)] * 3), [0.9, 0.1, 0.1], alpha=0.25)[1].stable == 1
    track = _warm_track()
    assert track.stable == 15
    np.testing.assert_allclose(track.mean[4], 3.0, atol=0.3)  # it has learnt the velocity


def test_motion_consistent_candidate_wins_once_stable():
    track = _warm_track()
    # call 16: the box should be near x = 10 + 3 * 15 = 55; the decoder prefers a far look-alike
    on_track, distractor = _box(55), _box(140)
    masks = torch.full((3, 64, 200), -1.0)
    for i, b in enumerate([distractor, on_track, _box(100, w=10, h=10)]):
        x1, y1, x2, y2 = (int(v) for v in b)
        masks[i, y1:y2 + 1, x1:x2 + 1] = 1.0
    boxes, ious = mask_boxes(masks), np.array([0.85, 0.80, 0.30])
    k, after, kf_iou = motion_aware_choice(track, boxes, ious, alpha=0.25)
    assert k == 1 and kf_iou > 0.8 and after.stable == 15
    assert after.mean[0] == pytest.approx(55 + 10, abs=1.5)  # updated with the chosen box's centre
    # SAM2's own rule (alpha = 0) would have taken the distractor
    assert motion_aware_choice(track, boxes, ious, alpha=0.0)[0] == 0
    # a chosen candidate with predicted IoU < 0.3 resets the filter (no update)
    k, reset, _ = motion_aware_choice(track, boxes, np.array([0.05, 0.25, 0.1]), alpha=0.25)
    assert k == 1 and reset.stable == 0


def test_facing_flips_velocities_for_reverse_tracking():
    track = _warm_track()
    back = track.facing(True)
    np.testing.assert_allclose(back.mean[:4], track.mean[:4])
    np.testing.assert_allclose(back.mean[4:], -track.mean[4:])
    s = np.diag([1.0] * 4 + [-1.0] * 4)
    np.testing.assert_allclose(back.cov, s @ track.cov @ s)
    assert back.facing(False).mean[4] == pytest.approx(track.mean[4]) and track.facing(False) is track
    assert isinstance(back, Track) and back.reverse


def test_a_user_mask_is_a_measurement_not_a_restart():
    from litcore_vos_samurai.kalman import Track, observe

    kf = BoxKalmanFilter()
    mean, cov = kf.initiate(xyxy_to_xyah(np.array([10.0, 10.0, 30.0, 50.0])))
    warm, stable = Track(mean, cov, 7), Track(mean, cov, 15)
    box = np.array([14.0, 12.0, 34.0, 52.0])
    after = observe(warm, box, stable_frames=15, kf=kf)
    expected = kf.update(*kf.predict(mean, cov), xyxy_to_xyah(box))
    np.testing.assert_allclose(after.mean, expected[0])
    np.testing.assert_allclose(after.cov, expected[1])
    assert after.stable == 8  # one more warm-up frame, not a restart
    assert observe(stable, box, stable_frames=15, kf=kf).stable == 15  # a stable filter stays stable
    # no filter yet, or one waiting to restart: the user's box starts it
    fresh = observe(None, box, stable_frames=15, kf=kf)
    np.testing.assert_allclose(fresh.mean, kf.initiate(xyxy_to_xyah(box))[0])
    assert fresh.stable == 1 and observe(Track(mean, cov, 0), box, kf=kf).stable == 1
    # an empty mask (object absent): the prediction is carried, nothing is measured
    carried = observe(warm, np.zeros(4), stable_frames=15, kf=kf)
    np.testing.assert_allclose(carried.mean, kf.predict(mean, cov)[0])
    assert carried.stable == 7 and observe(None, np.zeros(4), kf=kf) is None
