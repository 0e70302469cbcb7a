"""build_predictor / save_checkpoint: the tiny config instantiates, round-trips and tracks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from litcore_vos_sam2.build import (
    CheckpointError,
    build_predictor,
    default_checkpoint_path,
    default_config_path,
    save_checkpoint,
)

FAST = ["model.image_size=64"]


@pytest.fixture(scope="module")
def random_model():
    torch.manual_seed(0)
    return build_predictor(default_config_path(), overrides=FAST)


@pytest.fixture(scope="module")
def ckpt_fp32(random_model, tmp_path_factory):
    return save_checkpoint(random_model, tmp_path_factory.mktemp("ck") / "tiny.pt", extra={"note": "test"})


def test_default_paths_live_in_package():
    assert default_config_path().is_file()
    assert default_config_path().parent.parent == default_checkpoint_path().parent.parent


def test_tiny_config_shapes(random_model):
    m = random_model
    assert m.image_size == 64 and m.num_maskmem == 7
    assert type(m).__name__ == "SAM2VideoPredictor"
    assert m.mem_dim == 64 and m.hidden_dim == 256
    # RoPE grid follows the overridden image size (64 / 16 = 4 -> 16 positions)
    assert m.memory_attention.layers[0].self_attn.freqs_cis.shape[0] == 16
    # post-processing stays off
    assert not m.sam_mask_decoder.dynamic_multimask_via_stability
    assert m.fill_hole_area == 0 and not m.binarize_mask_from_pts_for_mem_enc
    # the standard SAM decoder: rank-4 LoRA on q/k/v of its transformer is 35,328 params
    lora = sum(
        4 * (mod.in_features + mod.out_features)
        for name, mod in m.sam_mask_decoder.transformer.named_modules()
        if isinstance(mod, torch.nn.Linear) and name.rsplit(".", 1)[-1] in ("q_proj", "k_proj", "v_proj")
    )
    assert lora == 35_328


@pytest.mark.parametrize("half", [False, True])
def test_checkpoint_round_trip(random_model, tmp_path, half):
    path = save_checkpoint(random_model, tmp_path / "m.pt", half=half, extra={"step": 3})
    payload = torch.load(path, weights_only=True)
    assert payload["step"] == 3
    assert all(not v.is_floating_point() or v.dtype == (torch.float16 if half else torch.float32)
               for v in payload["model"].values())
    torch.manual_seed(1)  # different random init, so equality proves loading
    loaded = build_predictor(default_config_path(), path, overrides=FAST)
    ref = random_model.state_dict()
    for key, value in loaded.state_dict().items():
        assert value.dtype == ref[key].dtype, key
        if half and value.is_floating_point():
            torch.testing.assert_close(value, ref[key], rtol=1e-3, atol=1e-4, msg=key)
        else:
            assert torch.equal(value, ref[key]), key


def test_missing_key_is_named(ckpt_fp32, tmp_path):
    payload = torch.load(ckpt_fp32, weights_only=True)
    del payload["model"]["no_mem_embed"]
    bad = tmp_path / "missing.pt"
    torch.save(payload, bad)
    with pytest.raises(CheckpointError, match="no_mem_embed") as err:
        build_predictor(default_config_path(), bad, overrides=FAST)
    assert str(bad) in str(err.value)


def test_unexpected_key_is_named(ckpt_fp32, tmp_path):
    payload = torch.load(ckpt_fp32, weights_only=True)
    payload["model"]["lora.extra_weight"] = torch.zeros(2)
    bad = tmp_path / "extra.pt"
    torch.save(payload, bad)
    with pytest.raises(CheckpointError, match="lora.extra_weight") as err:
        build_predictor(default_config_path(), bad, overrides=FAST)
    assert str(bad) in str(err.value)


def test_checkpoint_is_image_size_independent(ckpt_fp32):
    # saved from the 64-px build, loaded into the 128-px default: no weight depends on the size
    assert build_predictor(default_config_path(), ckpt_fp32).image_size == 128


def test_explicit_overrides_beat_postprocessing_defaults():
    model = build_predictor(default_config_path(), overrides=FAST + ["model.fill_hole_area=8",
                                                                     "++model.non_overlap_masks=true"])
    assert model.fill_hole_area == 8 and model.non_overlap_masks


def test_sam2_config_name_goes_through_hydra():
    model = build_predictor(
        "configs/sam2.1/sam2.1_hiera_t.yaml",
        predictor_class="sam2.modeling.sam2_base.SAM2Base",
        overrides=["model.num_maskmem=3"],
    )
    assert type(model).__name__ == "SAM2Base" and model.num_maskmem == 3
    assert not model.sam_mask_decoder.dynamic_multimask_via_stability


def test_missing_file_names_path(tmp_path):
    path = tmp_path / "nope.pt"
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        build_predictor(default_config_path(), path, overrides=FAST)
    with pytest.raises(CheckpointError):
        build_predictor(default_config_path(), path, overrides=FAST)


def test_not_a_meta_checkpoint(tmp_path):
    path = tmp_path / "raw.pt"
    torch.save({"weights": {}}, path)
    with pytest.raises(CheckpointError, match="raw.pt"):
        build_predictor(default_config_path(), path, overrides=FAST)


def test_unknown_config_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.yaml"):
        build_predictor(tmp_path / "nowhere.yaml")


def _write_jpegs(folder, frames):
    folder.mkdir()
    for i, img in enumerate(frames):
        Image.fromarray(img).save(folder / f"{i:05d}.jpg", quality=95)
    return str(folder)


@pytest.mark.parametrize("size", [64, 128])
def test_video_propagation_runs(tmp_path, size):
    torch.manual_seed(0)
    model = build_predictor(default_config_path(), overrides=[f"model.image_size={size}"])
    rng = np.random.default_rng(0)
    h, w = 48, 80  # not square: outputs must come back at video resolution
    frames = [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for _ in range(4)]
    state = model.init_state(_write_jpegs(tmp_path / "frames", frames))
    mask = np.zeros((h, w), bool)
    mask[10:30, 20:50] = True
    model.add_new_mask(state, frame_idx=0, obj_id=1, mask=mask)
    seen = {}
    with torch.inference_mode():
        for idx, obj_ids, logits in model.propagate_in_video(state):
            assert list(obj_ids) == [1]
            assert logits.shape == (1, 1, h, w) and torch.isfinite(logits).all()
            seen[idx] = logits
    assert sorted(seen) == [0, 1, 2, 3]
    # the conditioning frame returns the input mask itself (use_mask_input_as_output_without_sam),
    # up to the stride-4 low-res round trip
    pred, gt = (seen[0][0, 0] > 0).numpy(), mask
    assert (pred & gt).sum() / (pred | gt).sum() > 0.7


def test_configs_outside_the_trusted_folders_need_trust_config(tmp_path):
    from litcore_vos_sam2.build import ConfigError, trusted_config_dirs

    assert default_config_path().resolve().parent in trusted_config_dirs()
    outside = tmp_path / "copy.yaml"
    outside.write_text(default_config_path().read_text())
    with pytest.raises(ConfigError, match="trust_config=true"):
        build_predictor(outside, overrides=FAST)
    model = build_predictor(outside, overrides=FAST, trust_config=True)  # the same file, trusted
    assert model.image_size == 64
    with pytest.raises(ConfigError, match="_target_"):
        build_predictor(default_config_path(), overrides=FAST + ["model.memory_encoder._target_=os.system"])
