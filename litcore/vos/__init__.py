"""Video object segmentation plugins: data formats, click simulation, loaders."""
