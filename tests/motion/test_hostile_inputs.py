"""A hostile-input corpus for the motion readers, built by the tests themselves.

Every case makes a broken, absurd or malicious input and asserts that reading it raises one
:class:`UsdSynthError` whose message is one line naming the file, within 10 s. Bombs (sparse files,
archive members or pickled arrays declaring huge sizes, USD time ranges of millions of frames) must be
refused from their declared sizes, before anything is read: a few run again in a subprocess under
``RLIMIT_AS`` to show that memory stays bounded.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from usd_synth import limits
from usd_synth.errors import UsdSynthError
from usd_synth.limits import Limits
from usd_synth.motion.readers import read_motion

from ..conftest import smooth_random_motion
from ..inputs import amass_npz, bvh_text, h36m_camera_joints, humanml3d_features, humanml3d_joints

MOTION = smooth_random_motion(num_frames=12, fps=20, seed=1)
JOINTS = humanml3d_joints(MOTION)  # (12, 22, 3) Y up, metres
H36M = h36m_camera_joints(MOTION)  # (12, 17, 3) camera space
BVH = bvh_text(smooth_random_motion(num_frames=5))


# ---------------------------------------------------------------------------------------------------------
# builders: each writes into a folder and returns (path, read_motion keywords)
# ---------------------------------------------------------------------------------------------------------


def npy(arr, name="m.npy", **kw):
    def build(d: Path):
        p = d / name
        np.save(p, arr, allow_pickle=True)
        return p, kw

    return build


def raw(data: bytes, name="m.npy", **kw):
    def build(d: Path):
        p = d / name
        p.write_bytes(data)
        return p, kw

    return build


def npy_header_only(shape, dtype="<f8", sparse_bytes=0, name="m.npy", **kw):
    """A .npy whose header declares ``shape``; the data is absent (or a sparse hole of ``sparse_bytes``)."""

    def build(d: Path):
        p = d / name
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
        )
        with open(p, "wb") as f:
            f.write(buf.getvalue())
            if sparse_bytes:
                f.truncate(sparse_bytes)
        return p, kw

    return build


def npz(name="a.npz", **arrays_and_kw):
    kw = arrays_and_kw.pop("kw", {})

    def build(d: Path):
        p = d / name
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
            for key, arr in arrays_and_kw.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=True)
                z.writestr(f"{key}.npy", buf.getvalue())
        return p, kw

    return build


def npz_member_header(key, shape, others=None, name="a.npz", **kw):
    """An .npz whose member ``key`` has an .npy header declaring ``shape`` but (almost) no data."""

    def build(d: Path):
        p = d / name
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
            head = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                head, {"descr": "<f8", "fortran_order": False, "shape": shape}
            )
            z.writestr(f"{key}.npy", head.getvalue() + b"\0" * 64)
            for k, arr in (others or {}).items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asarray(arr))
                z.writestr(f"{k}.npy", buf.getvalue())
        return p, kw

    return build


def npz_declared_size(key, declared, others=None, name="a.npz", **kw):
    """A zip bomb's signature: member ``key`` declares ``declared`` uncompressed bytes (patched headers)."""

    def build(d: Path):
        p = d / name
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.zeros((4, 17, 3)))
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"{key}.npy", buf.getvalue())
            for k, arr in (others or {}).items():
                b = io.BytesIO()
                np.lib.format.write_array(b, np.asarray(arr))
                z.writestr(f"{k}.npy", b.getvalue())
        data = bytearray(p.read_bytes())
        real = len(buf.getvalue())
        # Uncompressed size: local header offset 22, central directory entry offset 24 (little endian).
        for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            i = data.find(sig)
            assert struct.unpack_from("<I", data, i + off)[0] == real
            struct.pack_into("<I", data, i + off, declared)
        p.write_bytes(bytes(data))
        return p, kw

    return build


def npz_member_zeros(key, nbytes, name="a.npz", **kw):
    """A real (small) zip bomb: a member of ``nbytes`` zeros that compresses to almost nothing."""

    def build(d: Path):
        p = d / name
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
            head = io.BytesIO()
            shape = (nbytes // (17 * 3 * 8), 17, 3)
            np.lib.format.write_array_header_1_0(
                head, {"descr": "<f8", "fortran_order": False, "shape": shape}
            )
            z.writestr(f"{key}.npy", head.getvalue() + bytes(shape[0] * 17 * 3 * 8))
        return p, kw

    return build


def amass(mutate=None, **kw):
    def build(d: Path):
        p = d / "a.npz"
        amass_npz(p, MOTION)
        if mutate:
            with np.load(p) as z:
                arrays = {k: z[k] for k in z.files}
            mutate(arrays)
            np.savez(p, **arrays)
        return p, kw

    return build


def pickles(frames=None, mutate=None, name="fit", **kw):
    """A joints2smpl folder; ``mutate(list_of_frame_dicts)`` may change the frames or return raw bytes."""

    def build(d: Path):
        folder = d / name
        folder.mkdir()
        pose = np.zeros(72)
        dicts = frames or [{"pose": pose.copy(), "beta": np.zeros(10), "root": np.array([0.0, 0.93, 0.0])}
                           for _ in range(4)]  # fmt: skip
        out = mutate(dicts) if mutate else None
        if isinstance(out, bytes):
            (folder / "0000.pkl").write_bytes(out)
            return folder, kw
        for k, fr in enumerate(dicts):
            with open(folder / f"{k:04d}.pkl", "wb") as f:
                pickle.dump(fr, f, protocol=2)
        return folder, kw

    return build


def pickle_bytes(obj) -> bytes:
    return pickle.dumps(obj, protocol=2)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def _bomb_setstate() -> bytes:
    data = pickle.dumps({"pose": np.zeros(3, dtype=object)}, protocol=2)
    return data.replace(b"K\x01K\x03\x85", b"K\x01J\x00\x00\x00\x40\x85")  # shape 2**30 objects


def _bomb_reconstruct() -> bytes:
    data = pickle.dumps({"pose": np.zeros(3)}, protocol=2)
    return data.replace(b"K\x00\x85", b"J\x00\x00\x00\x7f\x85", 1)  # placeholder of 2**31 bytes


def bvh(mutate, name="m.bvh", **kw):
    def build(d: Path):
        p = d / name
        p.write_text(mutate(BVH))
        return p, kw

    return build


def _first_joint(text: str, old: str, new: str) -> str:
    head, tail = text.split("JOINT", 1)
    return head + "JOINT" + tail.replace(old, new, 1)


def _scale_offsets(text: str, factor: float) -> str:
    out = []
    for line in text.split("\n"):
        if line.strip().startswith("OFFSET"):
            indent = line[: len(line) - len(line.lstrip())]
            nums = [float(v) * factor for v in line.split()[1:]]
            line = indent + "OFFSET " + " ".join(repr(v) for v in nums)
        out.append(line)
    return "\n".join(out)


def _set_motion_value(text: str, value: str, col: int = 0) -> str:
    rows = text.rstrip("\n").split("\n")
    vals = rows[-2].split()
    vals[col] = value
    rows[-2] = " ".join(vals)
    return "\n".join(rows) + "\n"


def _deep_hierarchy(n: int) -> str:
    lines = ["HIERARCHY", "ROOT Hips", "{", "OFFSET 0 0 0", "CHANNELS 6 Xposition Yposition Zposition "
             "Zrotation Xrotation Yrotation"]  # fmt: skip
    for k in range(n):
        lines += [f"JOINT J{k}", "{", "OFFSET 0 1 0", "CHANNELS 3 Zrotation Xrotation Yrotation"]
    lines += ["}"] * (n + 1)
    lines += ["MOTION", "Frames: 1", "Frame Time: 0.0333", " ".join(["0"] * (6 + 3 * n))]
    return "\n".join(lines) + "\n"


def usd(edit=None, suffix=".usda", **kw):
    """A motion USD written by usd-synth, its layer text edited by ``edit(text)`` (for .usda)."""

    def build(d: Path):
        from usd_synth.usd.motion_io import write_motion

        p = write_motion(smooth_random_motion(num_frames=6), d / f"m{suffix}")
        if edit:
            p.write_text(edit(p.read_text()))
        return p, kw

    return build


def _meta(key: str, value: str):
    def edit(text: str) -> str:
        head, rest = text.split(")", 1)
        lines = [ln for ln in head.split("\n") if not ln.strip().startswith(key + " ")]
        return "\n".join(lines[:-1] + [f"    {key} = {value}", lines[-1]]) + ")" + rest

    return edit


def special(kind, **kw):
    def build(d: Path):
        p = d / "x.npy"
        if kind == "fifo":
            os.mkfifo(p)
        elif kind == "loop":
            os.symlink(d / "y.npy", p)
            os.symlink(p, d / "y.npy")
        elif kind == "broken":
            os.symlink(d / "missing.npy", p)
        elif kind == "dir":
            p.mkdir()
        return p, kw

    return build


def _bad_usdc(d: Path):
    p = d / "m.usdc"
    p.write_bytes(b"PXR-USDC" + b"\0" * 120)
    return p, {}


def _truncated_usdc(d: Path):
    p, _ = usd(suffix=".usdc")(d)
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    return p, {}


def _frame_time(text: str, value: str) -> str:
    import re

    return re.sub(r"Frame Time:\s*\S+", f"Frame Time: {value}", text)


def _write(p: Path, text: str):
    p.write_text(text)
    return p, {}


def _truncate(p: Path) -> Path:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    return p


def _pkl_folder_inside(d: Path):
    folder, _ = pickles()(d)
    (folder / "0002.pkl").unlink()
    (folder / "0002.pkl").mkdir()
    return folder, {}


def _bvh_offset_1e300(d: Path):
    head, tail = BVH.split("JOINT", 1)
    first = tail.index("OFFSET")
    end = tail.index("\n", first)
    tail = tail[:first] + "OFFSET 1e300 0 0" + tail[end:]
    p = d / "m.bvh"
    p.write_text(head + "JOINT" + tail)
    return p, {}


# ---------------------------------------------------------------------------------------------------------
# the corpus: (id, builder, regex the message must match)
# ---------------------------------------------------------------------------------------------------------

STR_ARR = np.full((12, 22, 3), "a")
CASES = [
    # HumanML3D joints (.npy)
    ("h3d-empty", raw(b""), "empty"),
    ("h3d-garbage", raw(b"\x93NUMPY garbage" * 10, format="humanml3d"), "not a readable .npy"),
    (
        "h3d-header-truncated",
        raw(np.lib.format.magic(1, 0) + b"{'descr'", format="humanml3d"),
        "not a readable",
    ),
    ("h3d-data-truncated", npy_header_only((12, 22, 3), format="humanml3d"), "truncated"),
    ("h3d-object", npy(np.array([{"a": 1}] * 3, dtype=object), format="humanml3d"), "Python objects"),
    ("h3d-complex", npy(JOINTS.astype(complex)), "complex"),
    ("h3d-strings", npy(STR_ARR), "must be numeric"),
    ("h3d-bytes", npy(STR_ARR.astype("S1")), "must be numeric"),
    ("h3d-wrong-shape", npy(np.zeros((12, 22, 2)), format="humanml3d"), r"shape \(T, 22, 3\)"),
    ("h3d-1d", npy(np.zeros(10), format="humanml3d"), "shape"),
    ("h3d-0d", npy(np.float64(3.0), format="humanml3d"), "shape"),
    ("h3d-zero-frames", npy(np.zeros((0, 22, 3))), "0 frames"),
    ("h3d-nan", npy(np.where(np.arange(12)[:, None, None] == 5, np.nan, JOINTS)), "NaN.*frame 5"),
    ("h3d-inf", npy(np.where(np.arange(12)[:, None, None] == 2, np.inf, JOINTS)), "NaN or infinite"),
    ("h3d-x1e300", npy(JOINTS * 1e300), "max_coordinate_m"),
    ("h3d-x1e150", npy(JOINTS * 1e150), "max_coordinate_m"),
    ("h3d-x1e5", npy(JOINTS * 1e5), "max_coordinate_m|max_stature_m"),
    ("h3d-x100", npy(JOINTS * 100), "max_stature_m"),
    ("h3d-x1e-5", npy(JOINTS * 1e-5), "min_stature_m"),
    ("h3d-zeros", npy(np.zeros((12, 22, 3))), "min_stature_m"),
    ("h3d-one-point", npy(np.ones((12, 22, 3))), "min_stature_m"),
    ("h3d-one-bone-10m", npy(np.where(np.arange(22)[None, :, None] == 20, JOINTS + 10, JOINTS)), "bone"),
    ("h3d-too-many-frames", npy_header_only((200_000, 22, 3)), "max_frames"),
    ("h3d-sparse-3gb", npy_header_only((10, 22, 3), sparse_bytes=3 << 30), "max_file_bytes"),
    (
        "h3d-sparse-huge-array",
        npy_header_only((100, 2_000_000), sparse_bytes=(1 << 30) + (3 << 28), format="humanml3d"),
        "max_array_bytes",
    ),  # fmt: skip
    ("h3d-fps-1e12", npy(JOINTS, fps=1e12), "max_fps"),
    ("h3d-fps-0", npy(JOINTS, fps=0.0), "positive"),
    ("h3d-fps-nan", npy(JOINTS, fps=float("nan")), "positive"),
    ("h3d-fps-string", npy(JOINTS, fps="fast"), "number"),
    ("h3d-long-duration", npy(JOINTS, fps=1.0, limits=Limits(max_duration_s=5.0)), "max_duration_s"),
    ("h3d-npz-forced", npz(reconstruction=H36M, kw={"format": "humanml3d"}), "npz archive, not a .npy"),
    ("h3d-folder-forced", special("dir", format="humanml3d"), "is a folder"),
    ("h3d-fifo", special("fifo"), "not a regular file"),
    ("h3d-symlink-loop", special("loop"), "link"),
    ("h3d-broken-symlink", special("broken"), "link"),
    ("h3d-unknown", npy(np.zeros((12, 21, 3))), "unknown motion format"),
    # HumanML3D features
    ("feat-normalised", npy(np.random.default_rng(0).normal(size=(40, 263))), "stature|plausible|normalised"),
    ("feat-x1e300", npy(humanml3d_features(JOINTS) * 1e300), "max_coordinate_m"),
    ("feat-nan", npy(np.full((5, 263), np.nan)), "NaN"),
    ("feat-zeros", npy(np.zeros((5, 263))), "min_stature_m"),
    ("feat-complex", npy(np.zeros((5, 263), complex)), "complex"),
    ("feat-x1e3", npy(humanml3d_features(JOINTS) * 1e3), "max_stature_m|max_coordinate_m|plausible"),
    # StridedTransformer (.npz / .npy)
    ("str-no-reconstruction", npz(other=H36M, kw={"format": "strided"}), "no 'reconstruction'"),
    ("str-object", npz(reconstruction=np.array([None] * 3, dtype=object)), "Python objects"),
    ("str-batch-2", npz(reconstruction=np.stack([H36M, H36M])), "shape"),
    ("str-nan", npz(reconstruction=np.full_like(H36M, np.nan)), "NaN"),
    ("str-x1e300", npz(reconstruction=H36M * 1e300), "max_coordinate_m"),
    ("str-x1e5", npz(reconstruction=H36M * 1e5), "max_coordinate_m|max_stature_m"),
    ("str-zeros", npz(reconstruction=np.zeros_like(H36M)), "min_stature_m"),
    ("str-complex", npz(reconstruction=H36M.astype(complex)), "complex"),
    ("str-strings-npy", npy(np.full((4, 17, 3), "x"), format="strided"), "numeric"),
    ("str-member-declares-4gb", npz_declared_size("reconstruction", 0xFFFFFFF0), "max_member_bytes"),
    ("str-member-header-huge", npz_member_header("reconstruction", (90_000, 17, 3000)), "max_member_bytes"),
    ("str-member-header-frames", npz_member_header("reconstruction", (10**9, 17, 3)), "max_frames"),
    ("str-member-header-lies", npz_member_header("reconstruction", (5000, 17, 3)), "holds at most"),
    (
        "str-zip-bomb",
        npz_member_zeros("reconstruction", 4 << 20, limits=Limits(max_member_bytes=1 << 20)),
        "max_member_bytes",
    ),  # fmt: skip
    (
        "str-npz-truncated",
        lambda d: (_truncate(npz(reconstruction=H36M)(d)[0]), {"format": "strided"}),
        "npz",
    ),
    (
        "str-zip-not-npz",
        raw(b"PK\x03\x04" + b"\0" * 40, name="a.npz", format="strided"),
        "not a readable .npz",
    ),
    # AMASS
    ("amass-rate-empty", amass(lambda a: a.update(mocap_framerate=np.array([]))), "must be a number"),
    ("amass-rate-string", amass(lambda a: a.update(mocap_framerate=np.array("fast"))), "must be a number"),
    ("amass-rate-1e12", amass(lambda a: a.update(mocap_framerate=np.array(1e12))), "max_fps"),
    ("amass-rate-0", amass(lambda a: a.update(mocap_framerate=np.array(0.0))), "positive"),
    ("amass-rate-nan", amass(lambda a: a.update(mocap_framerate=np.array(np.nan))), "positive"),
    ("amass-rate-complex", amass(lambda a: a.update(mocap_framerate=np.array(1j))), "complex"),
    ("amass-poses-strings", amass(lambda a: a.update(poses=a["poses"].astype(str))), "numeric"),
    ("amass-poses-65", amass(lambda a: a.update(poses=a["poses"][:, :65])), "at least 66"),
    ("amass-poses-nan", amass(lambda a: a["poses"].__setitem__((3, 5), np.nan)), "NaN.*frame 3"),
    ("amass-poses-1e300", amass(lambda a: a.update(poses=a["poses"] + 1e300)), "max_rotation_deg"),
    (
        "amass-poses-zero-frames",
        amass(lambda a: a.update(poses=a["poses"][:0], trans=a["trans"][:0])),
        "0 frames",
    ),
    ("amass-trans-short", amass(lambda a: a.update(trans=a["trans"][:-1])), "shape"),
    ("amass-trans-1e300", amass(lambda a: a.update(trans=a["trans"] * 1e300)), "max_coordinate_m"),
    ("amass-trans-inf", amass(lambda a: a["trans"].__setitem__((0, 0), np.inf)), "NaN or infinite"),
    ("amass-no-trans", amass(lambda a: a.pop("trans"), format="amass"), "no 'trans'"),
    ("amass-betas-string", amass(lambda a: a.update(betas=np.array("tall"))), "betas"),
    ("amass-on-npy", npy(JOINTS, format="amass"), "npy array, not an .npz"),
    (
        "amass-member-declares-4gb",
        npz_declared_size("poses", 0xFFFFFFF0, {"trans": np.zeros((4, 3))}),
        "max_member_bytes",
    ),  # fmt: skip
    (
        "amass-member-header-frames",
        npz_member_header("poses", (10**8, 156), {"trans": np.zeros((4, 3))}),
        "max_frames",
    ),  # fmt: skip
    ("amass-fps-given-1e12", amass(fps=1e12), "max_fps"),
    # joints2smpl folders of pickles
    ("j2s-empty-folder", lambda d: ((d / "fit").mkdir() or d / "fit", {"format": "joints2smpl"}), "no .pkl"),
    ("j2s-empty-pickle", pickles(mutate=lambda fr: b""), "empty"),
    ("j2s-truncated", pickles(mutate=lambda fr: pickle_bytes(fr[0])[:40]), "truncated or corrupt"),
    ("j2s-code", pickles(mutate=lambda fr: pickle_bytes({"pose": Evil()})), "refusing"),
    ("j2s-not-dict", pickles(mutate=lambda fr: pickle_bytes([1, 2, 3])), "expected a dict"),
    ("j2s-pose-string", pickles(mutate=lambda fr: fr[1].update(pose="zero")), "pose must be numeric"),
    ("j2s-beta-string", pickles(mutate=lambda fr: fr[0].update(beta="tall")), "beta"),
    ("j2s-pose-70", pickles(mutate=lambda fr: fr[2].update(pose=np.zeros(70))), r"shape \(1, 72\)"),
    ("j2s-pose-nan", pickles(mutate=lambda fr: fr[0].update(pose=np.full(72, np.nan))), "NaN"),
    ("j2s-pose-1e300", pickles(mutate=lambda fr: fr[0].update(pose=np.full(72, 1e300))), "max_rotation_deg"),
    ("j2s-root-1e300", pickles(mutate=lambda fr: fr[0].update(root=np.full(3, 1e300))), "max_coordinate_m"),
    ("j2s-no-translation", pickles(mutate=lambda fr: fr[0].pop("root")), "neither 'root' nor 'cam'"),
    ("j2s-setstate-bomb", pickles(mutate=lambda fr: _bomb_setstate()), "declares shape"),
    ("j2s-reconstruct-bomb", pickles(mutate=lambda fr: _bomb_reconstruct()), "placeholder"),
    ("j2s-pkl-folder", _pkl_folder_inside, "is a folder"),
    ("j2s-file-forced", npy(JOINTS, format="joints2smpl"), "is a file"),
    ("j2s-fps-1e12", pickles(fps=1e12), "max_fps"),
    # BVH
    ("bvh-empty", raw(b"", name="m.bvh", format="bvh"), "empty"),
    (
        "bvh-Wrotation",
        bvh(lambda t: _first_joint(t, "Xrotation", "Wrotation")),
        "unknown channel 'Wrotation'",
    ),
    ("bvh-channels-neg", bvh(lambda t: _first_joint(t, "CHANNELS 3", "CHANNELS -2")), "negative count"),
    ("bvh-offset-1e300", _bvh_offset_1e300, "max_coordinate_m"),
    ("bvh-offsets-x1e300", bvh(lambda t: _scale_offsets(t, 1e300)), "max_coordinate_m"),
    ("bvh-offsets-zero", bvh(lambda t: _scale_offsets(t, 0.0)), "min_stature_m"),
    ("bvh-offsets-x1e5", bvh(lambda t: _scale_offsets(t, 1e5)), "max_stature_m|max_coordinate_m"),
    ("bvh-frames-1e12", bvh(lambda t: t.replace("Frames: 5", "Frames: 1000000000000")), "max_frames"),
    ("bvh-frames-vs-size", bvh(lambda t: t.replace("Frames: 5", "Frames: 90000")), "cannot fit"),
    ("bvh-frame-time-tiny", bvh(lambda t: _frame_time(t, "1e-12")), "max_fps"),
    ("bvh-frame-time-nan", bvh(lambda t: _frame_time(t, "nan")), "positive"),
    ("bvh-frame-time-huge", bvh(lambda t: _frame_time(t, "1e6")), "min_fps"),
    ("bvh-rotation-1e300", bvh(lambda t: _set_motion_value(t, "1e300", 5)), "max_rotation_deg"),
    ("bvh-position-1e300", bvh(lambda t: _set_motion_value(t, "1e300", 0)), "max_coordinate_m"),
    ("bvh-binary", raw(b"HIERARCHY\n" + bytes(range(256)) * 8, name="m.bvh"), "BVH|line"),
    ("bvh-only-header", raw(b"HIERARCHY\n", name="m.bvh"), "no joints|truncated|MOTION"),
    ("bvh-2000-joints", lambda d: _write(d / "m.bvh", _deep_hierarchy(2000)), "max_joints"),
    ("bvh-target-fps-1e12", bvh(lambda t: t, target_fps=1e12), "max_fps"),
    (
        "bvh-resample-too-many",
        bvh(lambda t: t, fps=1.0, target_fps=1000.0, limits=Limits(max_frames=2000)),
        "max_frames",
    ),  # fmt: skip
    ("bvh-too-many-values", bvh(lambda t: t, limits=Limits(max_text_values=100)), "max_text_values"),
    ("bvh-too-big", bvh(lambda t: t, limits=Limits(max_text_bytes=1000)), "max_text_bytes"),
    ("bvh-folder-forced", special("dir", format="bvh"), "is a folder"),
    # USD
    ("usd-endtime-5e7", usd(_meta("endTimeCode", "50000000")), "max_frames"),
    ("usd-tcps-0", usd(_meta("timeCodesPerSecond", "0")), "timeCodesPerSecond"),
    ("usd-tcps-1e12", usd(_meta("timeCodesPerSecond", "1e12")), "timeCodesPerSecond.*max_fps"),
    ("usd-end-before-start", usd(_meta("endTimeCode", "-5")), "before startTimeCode"),
    ("usd-fractional-times", usd(_meta("endTimeCode", "4.5")), "whole frames"),
    ("usd-parse-error", usd(lambda t: t.replace("def Skeleton", "def Skeleton {{{")), "not a readable USD"),
    ("usd-no-skeleton", usd(lambda t: t.split("def SkelRoot")[0]), "no UsdSkel Skeleton"),
    ("usd-obsolete-crate", _bad_usdc, "not a readable USD"),
    ("usd-truncated-crate", _truncated_usdc, "not a readable"),
    ("usd-garbage-usda", raw(b"#usda 1.0\n\x00\x01\x02 nonsense {", name="m.usda"), "not a readable USD"),
    ("usd-fps-1e12", usd(fps=1e12), "max_fps"),
    ("usd-folder-forced", special("dir", format="usd"), "is a folder"),
]


def _cases():
    out = []
    for case_id, build, pattern in CASES:
        out.append(pytest.param(build, pattern, id=case_id))
    return out


def test_corpus_is_large_enough():
    assert len(CASES) >= 80
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("build, pattern", _cases())
def test_hostile_input(tmp_path, build, pattern):
    path, kwargs = build(tmp_path)
    start = time.perf_counter()
    with pytest.raises(UsdSynthError) as info:
        read_motion(path, **kwargs)
    elapsed = time.perf_counter() - start
    message = str(info.value)
    assert elapsed < 10.0, f"took {elapsed:.1f} s"
    assert "\n" not in message and "Traceback" not in message
    assert str(path) in message, message
    assert "pxrInternal" not in message and ".cpp" not in message, message
    if pattern:
        import re

        assert re.search(pattern, message), message


# ---------------------------------------------------------------------------------------------------------
# SMPL model files (load_model)
# ---------------------------------------------------------------------------------------------------------


def _smpl_arrays(v=30, faces=None):
    rng = np.random.default_rng(0)
    parents = np.array([-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21])
    kin = np.stack([np.where(parents < 0, 4294967295, parents), np.arange(24)]).astype(np.int64)
    return {
        "v_template": rng.normal(size=(v, 3)),
        "shapedirs": rng.normal(size=(v, 3, 10)),
        "J_regressor": np.abs(rng.normal(size=(24, v))),
        "weights": np.abs(rng.normal(size=(v, 24))),
        "f": np.array([[0, 1, 2]]) if faces is None else faces,
        "kintree_table": kin,
    }


@pytest.mark.parametrize(
    "make, pattern",
    [
        (lambda a: a.update(f=np.zeros((0, 3), np.int64)), "faces"),
        (lambda a: a.update(f=np.full((2, 3), "x")), "numeric"),
        (lambda a: a.update(f=np.full((2, 3), 0.5)), "whole vertex indices"),
        (lambda a: a.update(v_template=np.full((30, 3), np.nan)), "NaN"),
        (lambda a: a.pop("f"), "missing f"),
    ],
    ids=["no-faces", "string-faces", "fractional-faces", "nan-template", "missing-faces"],
)
@pytest.mark.parametrize("suffix", [".pkl", ".npz"])
def test_bad_smpl_model_files(tmp_path, make, pattern, suffix):
    from usd_synth.body.smpl_body import load_model

    arrays = _smpl_arrays()
    make(arrays)
    path = tmp_path / f"SMPL_NEUTRAL{suffix}"
    if suffix == ".npz":
        np.savez(path, **arrays)
    else:
        path.write_bytes(pickle.dumps(arrays, protocol=2))
    start = time.perf_counter()
    with pytest.raises(UsdSynthError, match=pattern) as info:
        load_model(path)
    assert time.perf_counter() - start < 10.0
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_smpl_model_bombs(tmp_path):
    from usd_synth.body.smpl_body import load_model

    pkl = tmp_path / "SMPL_NEUTRAL.pkl"
    pkl.write_bytes(_bomb_setstate())
    with pytest.raises(UsdSynthError, match="declares shape"):
        load_model(pkl)
    npz_path, _ = npz_declared_size("v_template", 0xFFFFFFF0, name="SMPL_NEUTRAL.npz")(tmp_path)
    with pytest.raises(UsdSynthError, match="max_member_bytes"):
        load_model(npz_path)


# ---------------------------------------------------------------------------------------------------------
# limits: defaults, widening, and the good inputs still read
# ---------------------------------------------------------------------------------------------------------


def test_widening_the_stature_range(tmp_path, monkeypatch):
    np.save(tmp_path / "small.npy", JOINTS * 0.2)  # a 0.34 m "person": refused by default
    with pytest.raises(UsdSynthError, match="min_stature_m"):
        read_motion(tmp_path / "small.npy")
    assert read_motion(tmp_path / "small.npy", limits=Limits(min_stature_m=0.2)).stature < 0.4
    with limits.using(min_stature_m=0.2):
        assert read_motion(tmp_path / "small.npy").num_frames == 12
    monkeypatch.setenv(limits.ENV_VAR, "min_stature_m=0.2, max_frames=500000")
    assert limits.current().max_frames == 500_000
    assert read_motion(tmp_path / "small.npy").num_frames == 12
    monkeypatch.setenv(limits.ENV_VAR, "min_stature=0.2")
    with pytest.raises(UsdSynthError, match="unknown limit 'min_stature'"):
        limits.current()
    monkeypatch.setenv(limits.ENV_VAR, "min_stature_m=tiny")
    with pytest.raises(UsdSynthError, match="USD_SYNTH_LIMITS"):
        limits.current()


def test_limits_are_validated():
    with pytest.raises(UsdSynthError, match="max_fps"):
        Limits(max_fps=-1)
    with pytest.raises(UsdSynthError, match="min_stature_m"):
        Limits(min_stature_m=3.0)


def test_good_inputs_still_read(tmp_path):
    np.save(tmp_path / "j.npy", JOINTS)
    m = read_motion(tmp_path / "j.npy")
    assert 1.5 < m.stature < 1.9
    (tmp_path / "m.bvh").write_text(BVH)
    assert read_motion(tmp_path / "m.bvh").num_frames == 5
    amass_npz(tmp_path / "a.npz", MOTION)
    assert read_motion(tmp_path / "a.npz").fps == 20
    np.savez(tmp_path / "s.npz", reconstruction=H36M)
    assert read_motion(tmp_path / "s.npz").num_frames == 12


# ---------------------------------------------------------------------------------------------------------
# bombs under a hard memory limit (a subprocess, so the limit cannot hurt the test session)
# ---------------------------------------------------------------------------------------------------------

_RLIMIT_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    from usd_synth.errors import UsdSynthError
    from usd_synth.motion.readers import read_motion, readers
    import pxr.Usd  # loaded before the limit: its libraries are not what is measured
    readers()
    with open("/proc/self/status") as f:
        vm = int(f.read().split("VmSize:")[1].split()[0]) * 1024
    cap = vm + (1 << 30)  # one more GiB of address space, all in
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    for path in sys.argv[1:]:
        try:
            read_motion(path)
        except UsdSynthError as exc:
            print("refused", exc)
        else:
            print("ACCEPTED", path)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and RLIMIT_AS")
def test_bombs_stay_within_a_memory_limit(tmp_path):
    paths = []
    for k, build in enumerate(
        (
            npy_header_only((10, 22, 3), sparse_bytes=(3 << 30)),
            npy_header_only((90_000, 22, 3), name="big.npy"),
            npz_declared_size("reconstruction", 0xFFFFFFF0),
            usd(_meta("endTimeCode", "50000000")),
            pickles(mutate=lambda fr: _bomb_setstate()),
        )
    ):
        d = tmp_path / str(k)
        d.mkdir()
        paths.append(str(build(d)[0]))
    root = Path(__file__).resolve().parents[2]
    # Few threads and malloc arenas, so the address space measured is the reader's, not the thread pools'.
    env = {**os.environ, "PYTHONPATH": str(root), "PXR_WORK_THREAD_LIMIT": "1", "MALLOC_ARENA_MAX": "2",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip
    env.pop(limits.ENV_VAR, None)
    result = subprocess.run(
        [sys.executable, "-c", _RLIMIT_SCRIPT, *paths], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().split("\n")
    assert len(lines) == len(paths) and all(line.startswith("refused") for line in lines), result.stdout
    assert "MemoryError" not in result.stdout
