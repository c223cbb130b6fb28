"""Fractal video pre-training sets: animated IFS fractals with real-video properties, rendered in Warp.

Modules, in pipeline order: :mod:`ifs` (affine maps, sigma-factor sampling), :mod:`curves` (time curves),
:mod:`system` (animated class systems and per-clip perturbations), :mod:`emulation` (real-video
properties), :mod:`render` (framing, kernel launch, tone mapping, compositing), :mod:`quality`
(degeneracy checks), :mod:`video_io` (mp4/PNG/preview) and :mod:`dataset` (the whole set). The kernel and
its numpy reference live in :mod:`usd_synth.kernels.fractal`; docs in ``docs/fractal.md``.
"""
