"""A worked third-party litcore plugin: click-corrected binary segmentation of generated shapes."""
