"""Writing and reading USD.

One module per job:

* :mod:`~usd_synth.usd.authoring` — stage conventions (Z up, metres, time codes = frames), atomic writes
  with a crate sidecar for ``.usda`` time samples, opening files with clear errors;
* :mod:`~usd_synth.usd.matrices` — numpy (column vectors) <-> Gf (row vectors) matrices;
* :mod:`~usd_synth.usd.semantics` — UsdSemantics labels;
* :mod:`~usd_synth.usd.materials` — the material library (``materials/``), copied into written assets;
* :mod:`~usd_synth.usd.skel` — SMPL-24 Skeletons and their animation, shared by the file kinds below;
* :mod:`~usd_synth.usd.motion_io` — motion files, written and read back;
* :mod:`~usd_synth.usd.body_io` — body and actor files (skinned meshes), bodies read back;
* :mod:`~usd_synth.usd.bake` — skinning baked into time-sampled points;
* :mod:`~usd_synth.usd.validate` — USD's validators and NVIDIA's asset validator.
"""
