"""Procedural synthetic VOS benchmark: the project's embedded default data.

`make_video(split, index)` returns a deterministic `SynthVideo` whose `meta`
records which failure modes (occlusion, separation, camouflage, deformation,
drift, fast motion) it contains and where they happen on screen.
"""

from litcore.vos.synth.generator import SPLITS, SynthVideo, make_video, video_seed
from litcore.vos.synth.scenes import HARD_COMBOS, MODES

__all__ = ["HARD_COMBOS", "MODES", "SPLITS", "SynthVideo", "make_video", "video_seed"]
