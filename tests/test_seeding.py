"""The one seeding rule: a Generator per (run seed, key...), stable across processes, distinct per key."""

from __future__ import annotations

import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.randomize import entropy_for, rng_for, seed_sequence_for


def _draw(run_seed: int, *key) -> np.ndarray:
    return rng_for(run_seed, *key).integers(0, 2**63, size=4)


def test_same_key_same_stream() -> None:
    assert np.array_equal(_draw(5, "walk", 3), _draw(5, "walk", 3))
    assert np.array_equal(entropy_for(5, "walk"), entropy_for(5, "walk"))


@pytest.mark.parametrize(
    "other",
    [
        (6, "a"),  # another run seed
        (5, "b"),  # another name
        (5, "a", 0),  # a longer key
        (5, 0, "a"),  # the same parts in another order
        (5, "a0"),  # strings do not run into the next part
        (5, 0),  # an int is not the string it hashes from
        (5, -1),  # negative ints are their own values ...
        (5, 1),  # ... not their magnitude
        (5, 2**32),  # ... and ints above 32 bits are not truncated
    ],
)
def test_distinct_keys_give_distinct_streams(other) -> None:
    assert not np.array_equal(_draw(5, "a"), _draw(*other))


def test_ints_are_not_truncated_or_folded() -> None:
    """Keys that an older ``k & 0xFFFFFFFF`` or ``abs(k)`` rule would merge stay apart."""
    draws = [_draw(0, k) for k in (-1, 0xFFFFFFFF, 1, 2**32 + 1, 2**64 + 1, -(2**64) - 1, 0)]
    assert len({d.tobytes() for d in draws}) == len(draws)
    assert _draw(-(2**70), "x").shape == (4,)  # any Python int is a valid key part, huge or negative


def test_numpy_integers_equal_python_ints() -> None:
    assert np.array_equal(_draw(np.int64(7), np.uint32(3)), _draw(7, 3))


def test_streams_are_independent_of_draw_order() -> None:
    """A job's stream does not depend on which other streams were drawn first (no shared state)."""
    first = _draw(1, "clip", 9)
    for k in range(5):
        rng_for(1, "clip", k).random(100)
    assert np.array_equal(_draw(1, "clip", 9), first)


def test_entropy_words() -> None:
    words = entropy_for(3, "kernel", 2, words=6)
    assert words.dtype == np.uint32 and words.shape == (6,)
    assert np.array_equal(words[:4], seed_sequence_for(3, "kernel", 2).generate_state(4))


def test_stable_across_processes() -> None:
    """Another interpreter, with another string-hash salt, draws the same numbers: string keys are hashed
    with CRC-32, not ``hash()``."""
    code = (
        "from usd_synth.randomize import rng_for, entropy_for;"
        "print(*rng_for(11, 'body', -3, 2**40).integers(0, 2**63, size=4));"
        "print(*entropy_for(11, 'fractal', 'clip', 2, 7))"
    )
    out = []
    for salt in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": salt}
        res = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        out.append(res.stdout.split("\n"))
    assert out[0] == out[1]
    here = [
        " ".join(str(x) for x in rng_for(11, "body", -3, 2**40).integers(0, 2**63, size=4)),
        " ".join(str(x) for x in entropy_for(11, "fractal", "clip", 2, 7)),
    ]
    assert out[0][:2] == here


def test_documented_key_encoding() -> None:
    """The rule itself is part of the output format (datasets must reproduce across versions): each part
    becomes ``[number of words, *words]``, an int its sign and 32-bit magnitude words, a string a tag and
    its CRC-32. An accidental change to the encoding fails here first."""
    walk = zlib.crc32(b"walk")
    entropy = [2, 0, 7, 2, 0x5354_5200, walk, 2, 1, 3, 3, 0, 5, 1]
    expected = np.random.default_rng(np.random.SeedSequence(entropy)).integers(0, 2**63, size=4)
    assert np.array_equal(_draw(7, "walk", -3, 2**32 + 5), expected)


@pytest.mark.parametrize("bad", [1.5, None, True, b"walk", ("a",), np.float64(1.0)])
def test_rejects_bad_key_types(bad) -> None:
    with pytest.raises(UsdSynthError, match="seed key parts must be ints or strings"):
        rng_for(0, bad)


def test_rejects_a_bad_run_seed() -> None:
    with pytest.raises(UsdSynthError):
        rng_for(0.5, "a")  # type: ignore[arg-type]
