"""Motions on the SMPL-24 skeleton: the model, readers, retargeting and the built-in library."""

from usd_synth.motion.model import Motion

__all__ = ["Motion"]
