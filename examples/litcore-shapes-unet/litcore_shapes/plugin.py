"""Registration (the `shapes` entry point of the `litcore` group): a model and a dataset; the oracle is the core's."""

from litcore.hookspecs import hookimpl


@hookimpl
def litcore_register_models(register):
    from litcore_shapes.model import ShapesUNet

    register("shapes-unet", ShapesUNet, task="shapes", prediction="binary-mask",
             description="small U-Net (RGB + click maps) on generated shapes; LoRA on the encoder convs")


@hookimpl
def litcore_register_datasets(register):
    from litcore_shapes.data import ShapesDataset

    register("shapes", ShapesDataset, task="shapes",
             description="generated shape streams with look-alikes in another colour (split=train|test)")
