"""litcore plugin: DAM4SAM, re-implemented (clean room) as a subclass of the LIT SAM2 predictor."""

__version__ = "0.1.0"
