"""litcore plugin: SAM2 (pip `sam2`) for live interactive video object segmentation."""

__version__ = "0.1.0"
