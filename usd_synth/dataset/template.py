"""The commented config template ``usd-synth init-config`` prints: every section, with its defaults and what
each key does. A test loads it, so it never drifts from the schema in :mod:`usd_synth.dataset.config`."""

from __future__ import annotations

TEMPLATE = """\
# usd-synth dataset config. Run:  usd-synth generate THIS.yaml -o DATASET [--workers N] [--dry-run]
# Paths are relative to this file's folder. Unknown keys are errors.

seed: 0                      # every random choice follows from it: same config, same bytes

# Classes and their motions. A source is one of:
#   builtin: ACTION  count: N  seed: S   # N built-in motions (seeds S..S+N-1); see 'usd-synth motion list'
#   file: path/to/motion.bvh              # any file a reader takes (BVH, AMASS npz, HumanML3D npy, usd...)
#   folder: path/to/motions/              # every motion file directly inside
# 'synthetic' sources are generated motions used as partners of synthetic-mix blends.
classes:
  walk:
    sources:
      - builtin: walk
        count: 3
    synthetic:
      - builtin: walk
        count: 2
        seed: 1000
  wave:
    sources:
      - builtin: wave
        count: 3

# Your real dataset, to count clips per class (class folders of videos) -- or give the counts directly.
# real_dataset:
#   path: my_real_clips/            # my_real_clips/walk/*.mp4, my_real_clips/wave/*.mp4 ...
# real_counts: {walk: 40, wave: 3}

# How many synthetic clips each class gets: top every class up to 'target' clips in all, or up to
# 'ratio' x the largest class's real count (needs real counts). Top up rare classes; do not flood them.
balance:
  target: 4
  # ratio: 1.0
  # max_synthetic_per_class: 500

# Blends (rotation-space, time-aligned). Shares of the clips: real-mix (two real motions of the class),
# synthetic-mix (a real motion x a synthetic one); the rest use one source motion.
mixes:
  real_mix: 0.5
  synthetic_mix: 0.2
  weight_range: {min: 0.25, max: 0.75}   # or weights: [0.25, 0.5, 0.75]
  alignment: dtw                         # dtw | linear
  quality: {foot_skate: 0.2, ground_penetration: 0.04, floating: 0.1, jerk: 2000.0,
            joint_limit_violations: 0.05}
  on_reject: fallback                    # a rejected blend: fallback (use source A) | keep (marked)

# Motion variation, each applied with its probability, its value drawn from its range; every value drawn
# is recorded in the manifest. Mirroring swaps left and right; a declared pair relabels (wave_left <->
# wave_right); other classes stay themselves.
variation:
  tempo: {probability: 0.5, range: {min: 0.85, max: 1.15}}      # time scaling (>1 faster)
  amplitude: {probability: 0.5, range: {min: 0.8, max: 1.2}}    # joint rotations about the clip's mean pose
  noise: {probability: 0.3, range: {min: 0.0, max: 2.0}}        # smooth joint noise, degrees RMS
  mirror: {probability: 0.0, pairs: {}}

bodies:
  model: anny                # a free body, shape drawn per clip

# The scene schema of 'usd-synth stage' (templates, actors, props, lights, cameras); defaults for all.
# Clip length, frame rate and the camera count come from 'render'.
scene:
  templates: null            # null: all built-in rooms
  props: {count: {min: 2, max: 6}}
  cameras: {distance_m: {min: 2.0, max: 9.0}, elevation_deg: {min: 2.0, max: 30.0}}

render:
  backend: pyrender          # see 'usd-synth render --list-backends'
  resolution: 320x240
  fps: 30
  frames: 48                 # clip length; shorter motions give shorter clips
  cameras_per_clip: 1        # views of each scene, one video each
  passes: [rgb, depth, instance, keypoints]
  effects: null              # camera effects (noise, blur, exposure, compression), see docs/render.md

outputs:
  # tao: tao/<class>/<video>/rgb/000000.png + tao/{train,val,test}.txt; videos: videos/<split>/<class>/*.mp4;
  # coco: coco/<split>.json; skeletons: skeletons/<split>/<class>/*.npz; passes: depth/instance PNGs
  layouts: [tao, videos, coco, skeletons]
  keep_scenes: false         # keep each clip's USD stage under scenes/

# Train/val/test shares, split by source motion: a motion's clips and blends stay in one split.
split: {train: 0.8, val: 0.1, test: 0.1}

max_clips: 100000            # refuse plans larger than this
"""


def template_text() -> str:
    """The template (valid YAML; every value is the default or an example)."""
    return TEMPLATE
