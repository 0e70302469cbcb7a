"""The memory-attention cache (model option `memory_cache`): the same records as stock SAM2, fewer computations."""

from __future__ import annotations

import json

import pytest
import sam2.modeling.sam2_base as sam2_base

from litcore.cli import main


def _run(tmp_path, name, cache, monkeypatch, method="baseline"):
    calls = []
    stock = sam2_base.SAM2Base._prepare_memory_conditioned_features

    def counted(self, *args, **kwargs):
        calls.append(args[0])  # the frame whose memory attention is computed
        return stock(self, *args, **kwargs)

    monkeypatch.setattr(sam2_base.SAM2Base, "_prepare_memory_conditioned_features", counted)
    out = tmp_path / name
    argv = ["run", "--model", "sam2", "--model-opt", f"memory_cache={str(cache).lower()}", "--dataset", "synth",
            "--dataset-opt", "split=hard", "--dataset-opt", "videos=1", "--dataset-opt", "frames=10",
            "--method", method, "--policy-opt", "max_steps=3", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    monkeypatch.undo()
    records = []
    for line in (out / "steps.jsonl").read_text().splitlines():
        rec = json.loads(line)
        rec.pop("seconds", None)
        if rec.get("update"):
            rec["update"].pop("seconds", None)
        records.append(rec)
    return records, calls


@pytest.mark.parametrize("method", ["baseline", "lit-lora"])
def test_cached_memory_attention_gives_the_records_of_stock_sam2(tmp_path, monkeypatch, method):
    cached, fewer = _run(tmp_path, "cached", True, monkeypatch, method)
    stock, every = _run(tmp_path, "stock", False, monkeypatch, method)
    clicks = sum(r.get("clicks", 0) for r in stock)
    assert clicks > 0  # the run corrected frames, so the cache had something to reuse
    assert cached == stock  # every score, outcome and update is bit-for-bit the same
    assert len(every) - len(fewer) == clicks  # one memory attention saved per click, none lost elsewhere
    assert set(fewer) == set(every)


def test_version_of_a_key_tensor_without_an_exception():
    """The cache key reads every memory tensor's version counter per frame; inference tensors have none,
    and asking them raised (3% of tracking time), so `_version` must tell them apart first."""
    import sys

    import torch

    from litcore_vos_sam2.predictor import _version

    raised = []

    def trace(frame, event, arg):  # records exceptions raised or caught inside `_version` itself
        if frame.f_code is _version.__code__:
            return lambda f, e, a: raised.append(a[0]) if e == "exception" else None
        return None

    with torch.inference_mode():
        frozen = torch.zeros(3)
    live = torch.zeros(3)
    before = _version(live)
    live.add_(1)
    sys.settrace(trace)
    try:
        answers = (_version(frozen), _version("not a tensor"), _version(live))
    finally:
        sys.settrace(None)
    assert answers == (None, None, before + 1)
    assert raised == []  # the old try/except answered the same, through a RuntimeError per inference tensor
