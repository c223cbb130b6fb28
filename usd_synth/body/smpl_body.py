"""SMPL bodies, when the user brings SMPL's model files (SMPL's licence forbids redistributing them).

``--smpl-dir DIR`` names a folder holding ``SMPL_NEUTRAL``, ``SMPL_MALE`` or ``SMPL_FEMALE`` (``.pkl`` or
``.npz``; also looked for in ``DIR/smpl/``, the layout smplx uses, and under the original download names
``basicModel_neutral_lbs_10_207_0_v1.0.0.pkl`` / ``basicmodel_{m,f}_lbs_10_207_0_v1.0.0.pkl``).

Loading. The file is read with numpy/pickle. SMPL's original ``.pkl`` files hold ``chumpy`` arrays;
chumpy does not install on current numpy, so :mod:`usd_synth.safe_pickle` maps chumpy objects to plain
arrays (no chumpy needed) and refuses anything that is not data. The shaped rest mesh is computed by
``smplx`` when it is installed (the ``smpl`` extra),
else by the same two lines of numpy (``v = v_template + shapedirs @ betas``, ``J = J_regressor @ v``).

Frames. SMPL's model space is SMPL's body frame (Y up, +z forward) with the pelvis near the origin; the
body is moved so its soles rest on y = 0. SMPL's rest pose *is* the rest pose of usd-synth's skeleton
(T-pose, all local rotations identity), so every bind orientation is the identity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from usd_synth import limits, safe_pickle
from usd_synth.body.model import Body, cylindrical_uv, limit_influences
from usd_synth.errors import UsdSynthError
from usd_synth.skeleton import NUM_JOINTS, SMPL_PARENTS

GENDERS = ("neutral", "male", "female")
_ORIGINAL_NAMES = {
    "neutral": "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl",
    "male": "basicmodel_m_lbs_10_207_0_v1.0.0.pkl",
    "female": "basicModel_f_lbs_10_207_0_v1.0.0.pkl",
}


def find_model_file(smpl_dir: str | Path, gender: str = "neutral") -> Path:
    """The SMPL model file for ``gender`` in ``smpl_dir``; a UsdSynthError naming the folder otherwise."""
    smpl_dir = Path(smpl_dir)
    if gender not in GENDERS:
        raise UsdSynthError(
            f"overrides gender={gender}: SMPL genders are {', '.join(GENDERS)}", field="overrides"
        )
    if not smpl_dir.is_dir():
        raise UsdSynthError("smpl_dir: no such folder", smpl_dir, field="smpl_dir")
    names = [f"SMPL_{gender.upper()}.pkl", f"SMPL_{gender.upper()}.npz", _ORIGINAL_NAMES[gender]]
    for folder in (smpl_dir, smpl_dir / "smpl"):
        for name in names:
            if (folder / name).is_file():
                return folder / name
    raise UsdSynthError(
        f"smpl_dir: no SMPL model file for gender {gender!r} (expected {names[0]} or {names[1]}; "
        "download them from smpl.is.tue.mpg.de)",
        smpl_dir,
        field="smpl_dir",
    )


def load_model(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of an SMPL model file, checked: v_template, shapedirs, J_regressor, weights, f, kintree."""
    from usd_synth.motion.readers.arrays import load_npz

    path = Path(path)
    if path.suffix == ".npz":
        # Only the numeric arrays we use, sizes checked before decompressing, and no pickled objects.
        wanted = ("v_template", "shapedirs", "J_regressor", "weights", "f", "kintree_table", "posedirs")
        raw = load_npz(path, wanted)
    else:
        limits.check_input_file(path, limits.current().max_pickle_bytes, what="SMPL model file")
        try:
            with open(path, "rb") as fh:
                raw = safe_pickle.load(fh)
        except Exception as exc:
            text = " ".join(str(exc).split())[:160] or type(exc).__name__
            raise UsdSynthError(f"not a readable SMPL model file: {text}", path) from None
    if not isinstance(raw, dict):
        raise UsdSynthError("not an SMPL model file (expected a dictionary of arrays)", path)
    need = ("v_template", "shapedirs", "J_regressor", "weights", "f", "kintree_table")
    missing = [k for k in need if k not in raw]
    if missing:
        raise UsdSynthError(f"not an SMPL model file: missing {', '.join(missing)}", path)
    try:
        data = {k: np.asarray(safe_pickle.plain(raw[k])) for k in need}
        if "posedirs" in raw:
            data["posedirs"] = np.asarray(safe_pickle.plain(raw["posedirs"]))
    except Exception as exc:
        text = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise UsdSynthError(f"SMPL model file has unreadable arrays: {text}", path) from None
    for key, arr in data.items():
        if arr.dtype.kind not in "fiub":
            raise UsdSynthError(f"SMPL {key} must be numeric, got dtype {arr.dtype}", path)
    v = data["v_template"].shape[0] if data["v_template"].ndim == 2 else -1
    checks = [
        (data["v_template"].shape == (v, 3) and v > 0, "v_template must be (V, 3)"),
        (
            data["shapedirs"].ndim == 3 and data["shapedirs"].shape[:2] == (v, 3),
            "shapedirs must be (V, 3, B)",
        ),
        (data["J_regressor"].shape == (NUM_JOINTS, v), "J_regressor must be (24, V)"),
        (data["weights"].shape == (v, NUM_JOINTS), "weights must be (V, 24)"),
        (data["f"].ndim == 2 and data["f"].shape[1] == 3, "f must be (F, 3)"),
        (data["f"].ndim == 2 and data["f"].shape[0] > 0, "f (the faces) must not be empty"),
        (data["kintree_table"].shape == (2, NUM_JOINTS), "kintree_table must be (2, 24)"),
    ]
    for ok, message in checks:
        if not ok:
            raise UsdSynthError(f"not an SMPL-24 model file: {message}", path)
    parents = data["kintree_table"][0].astype(np.int64)
    parents[0] = -1
    if not np.array_equal(parents, SMPL_PARENTS):
        raise UsdSynthError("not an SMPL-24 model: its kinematic tree differs from SMPL's", path)
    if data["f"].dtype.kind == "f" and not np.array_equal(data["f"], np.round(data["f"])):
        raise UsdSynthError("SMPL faces must be whole vertex indices", path)
    faces = data["f"].astype(np.int64)
    if faces.min() < 0 or faces.max() >= v:
        raise UsdSynthError("SMPL faces index vertices that do not exist", path)
    for key in ("v_template", "shapedirs", "J_regressor", "weights"):
        if not np.all(np.isfinite(data[key].astype(np.float64))):
            raise UsdSynthError(f"SMPL {key} contain NaN or infinite values", path)
    return data


def shaped_rest(data: dict[str, np.ndarray], betas: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Rest vertices (V, 3) and joints (24, 3) for ``betas``, by smplx when installed, else numpy."""
    nb = min(len(betas), data["shapedirs"].shape[2])
    betas = np.asarray(betas[:nb], dtype=np.float64)
    try:
        import smplx  # noqa: F401
        import torch
        from smplx.lbs import blend_shapes, vertices2joints
    except ImportError:
        verts = data["v_template"] + data["shapedirs"][:, :, :nb] @ betas
        return verts, data["J_regressor"] @ verts
    with torch.no_grad():
        b = torch.as_tensor(betas[None], dtype=torch.float64)
        v_t = torch.as_tensor(data["v_template"][None], dtype=torch.float64)
        dirs = torch.as_tensor(data["shapedirs"][:, :, :nb], dtype=torch.float64)
        verts = v_t + blend_shapes(b, dirs)
        joints = vertices2joints(torch.as_tensor(data["J_regressor"], dtype=torch.float64), verts)
    return verts[0].numpy(), joints[0].numpy()


def smpl_body(
    smpl_dir: str | Path,
    betas: np.ndarray,
    gender: str = "neutral",
    max_influences: int = 4,
    color: tuple[float, float, float] = (0.8, 0.6, 0.5),
    params: dict[str, Any] | None = None,
) -> Body:
    """An SMPL body from the user's model files, shaped by ``betas``, on SMPL-24 (see module docstring)."""
    path = find_model_file(smpl_dir, gender)
    data = load_model(path)
    verts, joints = shaped_rest(data, np.asarray(betas, dtype=np.float64), path)
    ground = verts[:, 1].min()
    verts = verts - [0.0, ground, 0.0]
    joints = joints - [0.0, ground, 0.0]
    weights = np.clip(data["weights"].astype(np.float64), 0.0, None)
    indices, wts = limit_influences(weights, max_influences)
    faces = data["f"].astype(np.int32)
    uv, uv_idx = cylindrical_uv(verts, faces)
    info = {"model": "smpl", "gender": gender, "file": path.name}
    info["betas"] = [round(float(b), 6) for b in betas]
    info.update(params or {})
    body = Body(
        model="smpl",
        points=verts,
        faces=faces,
        joints=joints,
        bind_rotations=np.tile(np.eye(3), (NUM_JOINTS, 1, 1)),
        joint_indices=indices,
        joint_weights=wts,
        uv=uv,
        uv_indices=uv_idx,
        color=color,
        params=info,
    )
    body.params["stature_m"] = round(body.stature, 4)
    return body
