"""Randomness for usd-synth: one seeding rule (:mod:`usd_synth.randomize.seeding`) and, later, samplers.

No code in the package touches numpy's global RNG: every random choice takes a ``numpy.random.Generator``
made by :func:`rng_for` from the run seed and a key naming the job, so outputs do not depend on the order
in which jobs run, on the number of workers, or on the executor.
"""

from usd_synth.randomize.seeding import entropy_for, rng_for, seed_sequence_for

__all__ = ["entropy_for", "rng_for", "seed_sequence_for"]
