"""BVH import: a file written from a known motion comes back at the same joint positions."""

import numpy as np
import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.motion.readers import detect_format, read_motion

from .conftest import smooth_random_motion
from .inputs import bvh_text


def test_bvh_round_trip(tmp_path):
    src = smooth_random_motion(num_frames=45, fps=30, seed=9)
    (tmp_path / "m.bvh").write_text(bvh_text(src))
    assert detect_format(tmp_path / "m.bvh") == "bvh"
    m = read_motion(tmp_path / "m.bvh")
    assert m.fps == 30 and m.num_frames == 45 and m.source["unit_scale"] == 0.01
    # All 24 SMPL joints exist in this file (hands and feet as end sites): positions come back exactly.
    np.testing.assert_allclose(m.joint_positions(), src.joint_positions(), atol=1e-5)
    assert m.source["residual_mpjpe_m"] < 1e-5


def test_bvh_units_are_detected(tmp_path):
    src = smooth_random_motion(num_frames=10, seed=2)
    text = bvh_text(src, unit=1.0)
    (tmp_path / "m.bvh").write_text(text)
    assert read_motion(tmp_path / "m.bvh").source["unit_scale"] == 1.0


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda t: t[: len(t) // 2], "truncated"),
        (lambda t: t.replace("MOTION", "MOTON"), "BVH"),
        (lambda t: t.rsplit("\n", 2)[0] + "\nnan " + t.rsplit("\n", 2)[1].split(" ", 1)[1] + "\n", "NaN"),
    ],
)
def test_bad_bvh(tmp_path, mutate, message):
    text = bvh_text(smooth_random_motion(num_frames=5))
    (tmp_path / "bad.bvh").write_text(mutate(text))
    with pytest.raises(UsdSynthError, match=message) as info:
        read_motion(tmp_path / "bad.bvh")
    assert "bad.bvh" in str(info.value)
