"""litcore plugin: SAMURAI, re-implemented as a subclass of the LIT SAM2 predictor."""

__version__ = "0.1.0"
