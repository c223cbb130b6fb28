"""The project's one seeding rule: a Generator from (run seed, key...) through ``numpy.random.SeedSequence``.

Why one rule: a dataset of thousands of jobs must give the same bytes whatever order the jobs run in and
however many workers run them. That holds when every job draws from its own stream, named by what the job
*is* (a body seed, a class index, a clip number, an action name), never by when it runs. ``SeedSequence``
turns such a key into statistically independent streams; strings are hashed with CRC-32 so that a name
(``"walk"``, ``"body"``) is a stable key across Python processes (``hash()`` is salted per process).

Keys are tuples of ints and strings. Negative ints and ints above 2**32 are split into 32-bit words, so any
Python int is a valid key part, and ``rng_for(5, "a")`` never equals ``rng_for(5, "b")`` or
``rng_for(6, "a")``.
"""

from __future__ import annotations

import zlib

import numpy as np

from usd_synth.errors import UsdSynthError

KeyPart = int | str


def _words(part: KeyPart) -> list[int]:
    """A key part as 32-bit words: strings by CRC-32 (tagged), ints by sign and magnitude."""
    if isinstance(part, bool) or not isinstance(part, (int, np.integer, str)):
        raise UsdSynthError(f"seed key parts must be ints or strings, got {type(part).__name__}")
    if isinstance(part, str):
        return [0x5354_5200, zlib.crc32(part.encode("utf-8"))]
    value = int(part)
    sign, mag = (1, -value) if value < 0 else (0, value)
    words = [sign]
    while True:
        words.append(mag & 0xFFFFFFFF)
        mag >>= 32
        if not mag:
            return words


def seed_sequence_for(run_seed: int, *key: KeyPart) -> np.random.SeedSequence:
    """The ``SeedSequence`` for ``key`` within run ``run_seed``."""
    entropy: list[int] = []
    for part in (run_seed, *key):
        words = _words(part)
        entropy.extend([len(words), *words])
    return np.random.SeedSequence(entropy)


def rng_for(run_seed: int, *key: KeyPart) -> np.random.Generator:
    """The Generator for one job: ``rng_for(seed, "body")``, ``rng_for(seed, "fractal", class_id, clip)``."""
    return np.random.default_rng(seed_sequence_for(run_seed, *key))


def entropy_for(run_seed: int, *key: KeyPart, words: int = 4) -> np.ndarray:
    """``words`` uint32 values drawn from the key's stream: seeds for code that wants plain integers
    (a Warp kernel's hash, a child process)."""
    return seed_sequence_for(run_seed, *key).generate_state(words)
