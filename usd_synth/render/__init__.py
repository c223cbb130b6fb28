"""Rendering: the camera model (USD's, in OpenCV terms), and (next) the Renderer protocol, its registry,
backends, labels, effects and writers. A backend reads the stage from the USD file only."""
