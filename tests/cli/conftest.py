"""Inputs for the command-line tests, built by the tests themselves (never the shared sample folder)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def inputs(tmp_path_factory) -> Path:
    """A folder of good and bad inputs, named by what they are (see the keys used in the corpus)."""
    from usd_synth.usd.motion_io import write_motion

    from ..conftest import smooth_random_motion

    d = tmp_path_factory.mktemp("inputs")
    write_motion(smooth_random_motion(30, seed=0), d / "walk.usd")
    write_motion(smooth_random_motion(30, seed=1), d / "run.usd")
    (d / "empty.usd").write_bytes(b"")
    (d / "empty.npy").write_bytes(b"")
    (d / "garbage.usd").write_bytes(b"PXR-USDC" + bytes(range(256)) * 4)
    (d / "garbage.npy").write_bytes(b"\x93NUMPY" + b"\xff" * 64)
    (d / "text.txt").write_text("hello\n")
    (d / "folder").mkdir()
    (d / "folder" / "inside.txt").write_text("x")
    np.save(d / "nan.npy", np.full((10, 22, 3), np.nan))
    np.save(d / "shape.npy", np.zeros((5, 23, 3)))
    good = np.load(d / "nan.npy")
    good[:] = 0.0
    np.save(d / "zeros.npy", good)
    (d / "truncated.usd").write_bytes((d / "walk.usd").read_bytes()[:400])
    (d / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    (d / "huge.json").write_text(json.dumps({"pad": "x" * (1 << 21)}))
    (d / "list.json").write_text("[1, 2, 3]")
    (d / "unknown_key.json").write_text(json.dumps({"sparkle": {}}))
    (d / "bad.json").write_text("{not json")
    (d / "bad_hooks.yaml").write_text("hooks: [unclosed\n")
    (d / "hooks.yaml").write_text("hooks: {}\n")
    return d
