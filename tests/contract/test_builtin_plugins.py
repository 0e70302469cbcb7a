"""The four built-in plugins pass litcore.testing's contract (tiny random-weight models, short synthetic data)."""

from __future__ import annotations

from litcore.testing import PluginContract

# one 4-frame 64-px generated video; random-weight 64-px SAM2-family models
SYNTH = {"split": "train", "videos": 1, "size": 64, "frames": 4}
TINY_SAM2 = {"checkpoint": None, "image_size": 64, "device": "cpu", "seed": 0}


class _Sam2Family(PluginContract):
    dataset = "synth"
    dataset_options = SYNTH
    model_options = TINY_SAM2

    def prepare_model(self, model):
        # random weights give arbitrary object scores, and LIT gates masks by them: bias towards "present"
        from litcore_vos_sam2.testing import force_objects_present

        return force_objects_present(model)


class TestSam2(_Sam2Family):
    model = "sam2"


class TestSamurai(_Sam2Family):
    model = "samurai"


class TestDam4sam(_Sam2Family):
    model = "dam4sam"


class TestClip(PluginContract):
    model = "clip"
    model_options = {"checkpoint": None, "model_cfg": "micro", "seed": 0, "device": "cpu"}
    dataset = "synth-cls"
    dataset_options = {"per_class": 3}
