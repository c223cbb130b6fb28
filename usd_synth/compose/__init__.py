"""Randomized USD stages: the scene config schema, stage templates, the prop catalogue, and the composer
that samples a scene from ``rng_for(seed, "scene", scene_id, ...)`` and writes it as one folder.

``compose_scene(actors, out, seed)`` is the entry point; ``usd-synth stage`` and ``usd-synth package`` are
its commands. See ``docs/stages.md``.
"""

from usd_synth.compose.composer import compose_scene, load_actor_input
from usd_synth.compose.config import SceneConfig, load_scene_config, scene_config
from usd_synth.compose.package import package_scene
from usd_synth.compose.templates import load_template, template_names

__all__ = [
    "SceneConfig",
    "compose_scene",
    "load_actor_input",
    "load_scene_config",
    "load_template",
    "package_scene",
    "scene_config",
    "template_names",
]
