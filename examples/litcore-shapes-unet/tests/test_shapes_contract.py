"""The example passes litcore's plugin contract: registration, dataset, sessions, learner, short runs."""

from litcore.testing import PluginContract
from litcore_shapes import plugin


class TestShapesPlugin(PluginContract):
    model = "shapes-unet"                               # the shipped checkpoint
    dataset = "shapes"
    dataset_options = {"split": "test", "streams": 2, "frames": 8}
    plugins = (plugin,)                                 # this plugin and the built-ins, whatever else is installed
    methods = ("baseline", "lit-lora", "lit-auto")


class TestShapesRandomWeights(TestShapesPlugin):
    model_options = {"checkpoint": None, "width": 4}    # the mechanics do not depend on trained weights
