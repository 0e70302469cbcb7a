"""The unchanged LIT loop (oracle, adapter, policy) drives SAMURAI and DAM4SAM, in-process and via `lit run`."""

from __future__ import annotations

import json

import pytest

from litcore.cli import main
from litcore.loop import LiveTrainer
from litcore.vos.davis import write_davis
from litcore.vos.episodes import video_object_episodes

TRACKERS = {"samurai": "SamuraiPredictor", "dam4sam": "Dam4SamPredictor"}


def _trainer(registry, model, adapter):
    return LiveTrainer(model, registry.create("oracle", "vos-clicks"), registry.create("adapter", adapter),
                       registry.create("policy", "every", max_steps=4), seed=0)


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_baseline_and_lora_loop_with_each_tracker(registry, request, clip, name):
    model = request.getfixturevalue(f"tiny_{name}")
    assert type(model.predictor).__name__ == TRACKERS[name] and model.name == name
    video = clip(frames=5)
    for adapter in ("none", "lora"):
        tr = _trainer(registry, model, adapter)
        records = list(tr.run(video_object_episodes([video])))
        episodes = [r for r in records if r.kind == "episode"]
        assert [e.episode_id for e in episodes] == ["clip/1", "clip/2"]
        for ep in episodes:
            steps = [r for r in records if r.kind == "step" and r.episode_id == ep.episode_id]
            assert [s.index for s in steps] == list(range(0 if ep.episode_id == "clip/1" else 2, 5))
            user = [s for s in steps if s.outcome == "user"]
            assert ep.metrics["user_corrections"] == len(user)
            assert all(s.final_score >= 0.5 for s in steps if s.checked)
        if adapter == "none":
            assert all(r.update is None for r in records if r.kind == "step")
        else:  # LoRA on the mask decoder only, trained after user corrections
            assert tr.adapter.num_parameters() == 35_328
            lora = [n for n, _ in tr.adapter.module.named_modules() if n.endswith("lora_A")]
            assert len(lora) == 21 and all(n.startswith("transformer.") for n in lora)
            assert not [n for n, _ in model.predictor.named_modules() if "lora" in n]
            upd = [r for r in records if r.kind == "step" and r.update is not None]
            assert upd and all(r.outcome == "user" for r in upd)
    assert tr.describe()["model"]["tracker"]["policy"] == name


def test_tracker_records_are_written_during_a_session(tiny_samurai, tiny_dam4sam, clip):
    """The sessions really run the trackers' hooks (not plain SAM2) on the frames they track."""
    video = clip(frames=5)
    for model, keys in ((tiny_samurai, ("kf", "best_iou")), (tiny_dam4sam, ("n_pix", "area", "drm"))):
        episode = next(video_object_episodes([video]))
        session = model.session(episode)
        items = list(session.items())
        assert [i.index for i in items] == [0, 1, 2, 3, 4]
        recs = session.state["output_dict_per_obj"][0]["non_cond_frame_outputs"]
        assert sorted(recs) == [1, 2, 3, 4] and all(k in recs[t] for t in recs for k in keys)
        if model is tiny_samurai:  # the session's confidence is the chosen candidate's IoU
            assert [i.confidence for i in items[1:]] == pytest.approx([recs[t]["best_iou"] for t in (1, 2, 3, 4)])
            assert [recs[t]["kf"].stable for t in (1, 2, 3, 4)] == [1, 2, 3, 4]
        session.close()


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_lit_run_cli_with_each_tracker(tmp_path, clip, capsys, name):
    root = tmp_path / "davis"
    write_davis(clip("alpha", frames=4), root)
    common = ["run", "--model", name, "--dataset", "davis", "--root", str(root), "--model-opt", "checkpoint=null",
              "--model-opt", "image_size=64", "--policy-opt", "max_steps=3", "--quiet"]
    for method in ("baseline", "lit-lora"):
        out = tmp_path / method
        assert main(common + ["--method", method, "--out", str(out)]) == 0
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["spec"]["model"] == name
        assert manifest["components"]["model"]["name"] == name
        assert manifest["components"]["model"]["tracker"]["policy"] == name
        assert manifest["components"]["adapter"]["parameters"] == (0 if method == "baseline" else 35_328)
        steps = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
        assert {s["episode_id"] for s in steps} == {"alpha/1", "alpha/2"}
        summary = json.loads((out / "summary.json").read_text())
        assert summary["groups"]["alpha"]["user_corrections"] == sum(s["outcome"] == "user" for s in steps)
    capsys.readouterr()


def test_tracker_options_reach_the_predictor(registry):
    from litcore_vos_samurai.plugin import default_kf_score_weight

    assert default_kf_score_weight("configs/sam2.1/sam2.1_hiera_l.yaml") == 0.15
    assert default_kf_score_weight("configs/sam2.1/sam2.1_hiera_b+.yaml") == 0.25
    assert default_kf_score_weight(None, "facebook/sam2.1-hiera-large") == 0.15
    m = registry.create("model", "samurai", checkpoint=None, image_size=64, exclude_frames_0_1=True,
                        stable_frames_threshold=5, kf_score_weight=0.5)
    cfg = m.describe()["tracker"]
    assert (cfg["exclude_frames_0_1"], cfg["stable_frames_threshold"], cfg["kf_score_weight"]) == (True, 5, 0.5)
    m = registry.create("model", "dam4sam", checkpoint=None, image_size=64, ram_stride=3,
                        add_all_frames_to_correct_as_cond=False)
    assert m.predictor.ram_stride == 3 and m.predictor.add_all_frames_to_correct_as_cond is False
    assert m.predictor.multimask_max_pt_num == 3  # DAM's prompt-frame setting by default
