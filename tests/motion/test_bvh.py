"""BVH import: a file written from a known motion comes back at the same joint positions."""

import re

import numpy as np
import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.motion.readers import detect_format, read_motion

from ..conftest import smooth_random_motion
from ..inputs import bvh_text


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


def _first_joint(text: str, old: str, new: str) -> str:
    """Replace the first occurrence of ``old`` after the root's CHANNELS line."""
    head, tail = text.split("JOINT", 1)
    return head + "JOINT" + tail.replace(old, new, 1)


def _frames(text: str, lines: int) -> str:
    """Drop (negative) or duplicate (positive) trailing frame lines."""
    rows = text.rstrip("\n").split("\n")
    return "\n".join(rows[:lines] if lines < 0 else rows + rows[-lines:]) + "\n"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (
            lambda t: _first_joint(t, "Xrotation", "Xrot"),
            r": line \d+: unknown channel 'Xrot' for joint LeftHip; channels are Xposition",
        ),
        (
            lambda t: _first_joint(t, "CHANNELS 3", "CHANNELS 6"),
            "CHANNELS of joint LeftHip says 6 but lists 3",
        ),
        (lambda t: _first_joint(t, "CHANNELS 3", "CHANNELS 2"), "says 2 but lists more channel names"),
        (lambda t: _first_joint(t, "CHANNELS 3", "CHANNELS -2"), "negative count"),
        (lambda t: _first_joint(t, "CHANNELS 3", "CHANNELS x"), "needs a count"),
        (lambda t: _first_joint(t, "OFFSET", "OFFSET 1 2 }\n OFFSET"), "OFFSET of LeftHip needs three"),
        (lambda t: t.replace("}\nMOTION", "MOTION"), "truncated"),
        (lambda t: t.replace("}\nMOTION", "}\n}\nMOTION"), "unbalanced"),
        (lambda t: t.replace("JOINT LeftHip", "JOINT"), "JOINT without a name"),
        (lambda t: _frames(t, -2), r"'Frames: 5' x \d+ channels \(3 frame lines\)"),
        (lambda t: _frames(t, 2), "'Frames: 5' but has 7 lines of frame data"),
        (lambda t: t.rstrip("\n").rsplit(" ", 3)[0] + "\n", "truncated"),
        (lambda t: t.replace("Frame Time:", "FrameTime"), "needs a 'Frame Time:' line"),
        (lambda t: t.replace("Frames: 5", "Frames: 0"), "no frames"),
        (lambda t: t.split("MOTION")[0] + "MOTION\nFrames: 5\n", "no 'Frame Time:' line"),
        (
            lambda t: t.replace("\nFrame Time", " 1 2\nFrame Time").replace("Frames: 5 1 2", "Frames: 5x"),
            "Frames",
        ),
        (lambda t: t.split("MOTION")[0], "no MOTION section"),
    ],
)
def test_malformed_bvh(tmp_path, mutate, message):
    text = bvh_text(smooth_random_motion(num_frames=5))
    bad = mutate(text)
    assert bad != text
    (tmp_path / "bad.bvh").write_text(bad)
    with pytest.raises(UsdSynthError, match=message) as info:
        read_motion(tmp_path / "bad.bvh", format="bvh")
    assert str(info.value).startswith(str(tmp_path / "bad.bvh") + ": ") and "\n" not in str(info.value)


def test_a_middle_frame_with_a_wrong_count(tmp_path):
    rows = bvh_text(smooth_random_motion(num_frames=5)).rstrip("\n").split("\n")
    rows[-3] = rows[-3].rsplit(" ", 1)[0]
    (tmp_path / "bad.bvh").write_text("\n".join(rows) + "\n")
    with pytest.raises(UsdSynthError, match=r": line \d+: BVH frame 2 has \d+ values, expected \d+"):
        read_motion(tmp_path / "bad.bvh")


def test_bom_and_crlf(tmp_path):
    text = bvh_text(smooth_random_motion(num_frames=5))
    (tmp_path / "w.bvh").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    assert detect_format(tmp_path / "w.bvh") == "bvh"
    assert read_motion(tmp_path / "w.bvh").num_frames == 5


def test_a_forced_unit_that_gives_a_tiny_person_needs_a_wider_stature_range(tmp_path):
    from usd_synth.limits import Limits

    (tmp_path / "m.bvh").write_text(bvh_text(smooth_random_motion(num_frames=5)))  # centimetres
    with pytest.raises(UsdSynthError, match=r"0\.17 m tall.*min_stature_m") as info:
        read_motion(tmp_path / "m.bvh", unit="mm")
    assert str(tmp_path / "m.bvh") in str(info.value)
    m = read_motion(tmp_path / "m.bvh", unit="mm", limits=Limits(min_stature_m=0.1))
    assert m.stature == pytest.approx(0.17, abs=0.01)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda t: t.replace("Frames: 5", "Frames: 90000"), "cannot fit"),
        (lambda t: t.replace("Frames: 5", "Frames: 100000000"), "max_frames"),
        (lambda t: re.sub(r"Frame Time: \S+", "Frame Time: 0.0000001", t), "max_fps"),
    ],
)
def test_frame_counts_and_rates_are_bounded(tmp_path, mutate, message):
    text = bvh_text(smooth_random_motion(num_frames=5))
    bad = mutate(text)
    assert bad != text
    (tmp_path / "bad.bvh").write_text(bad)
    with pytest.raises(UsdSynthError, match=message):
        read_motion(tmp_path / "bad.bvh")
