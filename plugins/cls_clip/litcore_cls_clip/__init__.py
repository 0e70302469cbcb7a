"""litcore plugin: CLIP (open_clip) fine-grained classification with live interactive training."""

__version__ = "0.1.0"
