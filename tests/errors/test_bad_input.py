"""Every row of docs/bad-input.md: the input is built, `lit` runs, stderr is exactly the row's one line."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import CASES  # noqa: E402

TABLE = Path(__file__).resolve().parents[2] / "docs" / "bad-input.md"
ROW = re.compile(r"^\| `([a-z0-9-]+)` \| .* \| `(.+)` \|$")


def table() -> dict[str, str]:
    rows = {}
    for line in TABLE.read_text().splitlines():
        m = ROW.match(line)
        if m:
            assert m.group(1) not in rows, f"row {m.group(1)} twice in {TABLE}"
            rows[m.group(1)] = m.group(2)
    return rows


ROWS = table()


def test_every_row_has_a_builder_and_every_builder_a_row():
    assert len(ROWS) >= 40
    assert set(ROWS) == set(CASES)


@pytest.mark.parametrize("case", sorted(ROWS))
def test_bad_input_gives_its_one_line_error(case, tmp_path, capsys, monkeypatch):
    from litcore.cli import main

    if case == "hf-offline":  # the hub's offline mode, as with HF_HUB_OFFLINE=1: no network is touched
        import huggingface_hub.constants

        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    argv = CASES[case](tmp_path)
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2
    assert err == f"lit: error: {ROWS[case].format(tmp=tmp_path)}\n"
    assert "Traceback" not in out + err and "weights_only=False" not in err


def test_no_malicious_checkpoint_code_ran(tmp_path, capfd):
    """The pickles' payload would print through os.system; nothing is printed and no file appears."""
    from cases import RunsCode

    from litcore.weights import CheckpointError, load_weights

    path = tmp_path / "evil.pt"
    import torch

    torch.save({"model": RunsCode()}, path)
    with pytest.raises(CheckpointError, match=r"posix\.system|os\.system|nt\.system"):
        load_weights(path)
    assert "should never run" not in capfd.readouterr().out


def test_void_only_frames_are_not_scored(tmp_path):
    """An all-void frame has no target (not a free IoU of 1); a frame with some void is still scored."""
    import numpy as np

    from cases import davis_tree, labels

    from litcore.vos.davis import DavisDataset

    def masks(t):
        return np.full(labels(t).shape, 255, np.uint8) if t == 1 else labels(t)

    video = DavisDataset(davis_tree(tmp_path, masks)).video("v")
    assert video.object_mask(1, 1) is None and video.object_mask(1, 2) is None
    assert (video.object_mask(2, 1) == 1).any()
    partly = labels(2).copy()
    partly[:5] = 255
    from litcore.vos.video import ArrayVideo

    arr = ArrayVideo("a", [np.zeros((*partly.shape, 3), np.uint8)], [partly])
    assert arr.object_mask(0, 1) is not None and (arr.object_mask(0, 1) == 255).any()


def test_keep_going_runs_the_good_video_after_a_video_without_objects(tmp_path, capsys):
    """A broken video is recorded with its one-line reason and the next video still runs."""
    import json

    import numpy as np

    from cases import davis_tree

    from litcore.cli import main

    data = davis_tree(tmp_path)
    empty = data / "Annotations" / "a_empty"
    (data / "JPEGImages" / "a_empty").mkdir()
    empty.mkdir()
    from PIL import Image

    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(data / "JPEGImages" / "a_empty" / "00000.jpg")
    main(["run", "--model", "sam2", "--dataset", "davis", "--root", str(data), "--out", str(tmp_path / "out"),
          "--quiet", "--keep-going", "--max-corrections", "0"])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "its annotation folder" in json.dumps(manifest) and "a_empty" in json.dumps(manifest)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["totals"]["episodes"] == 2  # both objects of the good video `v`
    assert "Traceback" not in capsys.readouterr().err
