"""The default body: NAVER's Anny (Apache-2.0 code, CC0 MakeHuman assets), rigged onto SMPL-24.

Anny is a MakeHuman-derived parametric body: 13,718 vertices, a 104-bone rig, and phenotype blend shapes
(gender, age, muscle, weight, height, proportions) that reach from infants to elders. Its torch model is
slow to build the first time (Anny builds its own cache), so usd-synth extracts what a body needs (the
template, the phenotype blend shapes, the rig's bone heads and skin weights, faces, UVs, Anny's
WHO-calibrated shape statistics) once into a small ``.npz`` cache (:func:`load_assets`). After that a body
is a matrix product in numpy: no torch, a few milliseconds.

Frames and units. Anny's mesh is in metres, Z up, facing -Y, its left on +X: exactly usd-synth's world
rest orientation, so it only needs to be put on the ground and turned into SMPL's body frame.

Rigging onto SMPL-24 (:data:`BONE_TO_JOINT` and :data:`JOINT_FROM_BONES`; the table is in docs/bodies.md):
joint positions are heads of the Anny bones that sit where the SMPL joint sits; each Anny bone's skin
weights go to the SMPL joint whose segment it moves; per vertex the weights are summed, refined at the
shoulders (:func:`refine_shoulder_weights`), the :data:`~usd_synth.body.model.MAX_INFLUENCES` largest kept
and renormalized.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from usd_synth.body.model import Body, bind_rotations_from_joints, limit_influences, neighbour_mean
from usd_synth.errors import UsdSynthError
from usd_synth.fileio import atomic_path
from usd_synth.kinematics import REST_ROOT_MATRIX
from usd_synth.skeleton import JOINT_INDEX, NUM_JOINTS

log = logging.getLogger(__name__)

#: Bump when the cache layout changes.
CACHE_FORMAT = 2

#: Phenotypes of Anny's default model, each in [0, 1] (age: 0 newborn .. 1 a 110-year-old; gender: 0
#: male .. 1 female; see :mod:`usd_synth.body.shapes` for how they are sampled).
PHENOTYPES: tuple[str, ...] = ("gender", "age", "muscle", "weight", "height", "proportions")

#: Which SMPL joint each Anny bone's skin weights go to (regular expressions on Anny's bone names; the
#: side suffix ``.L``/``.R`` becomes ``left_``/``right_``). First match wins.
BONE_TO_JOINT: tuple[tuple[str, str], ...] = (
    (r"root|pelvis\.[LR]|spine05|spine04", "pelvis"),
    (r"spine03", "spine1"),
    (r"spine02", "spine2"),
    (r"spine01", "spine3"),
    (r"neck0[1-3]", "neck"),
    (r"head|eye\.[LR]", "head"),
    (r"upperleg0[12]\.(?P<s>[LR])", "{s}_hip"),
    (r"lowerleg0[12]\.(?P<s>[LR])", "{s}_knee"),
    (r"foot\.(?P<s>[LR])", "{s}_ankle"),
    (r"toe\d-\d\.(?P<s>[LR])", "{s}_foot"),
    (r"(clavicle|shoulder01)\.(?P<s>[LR])", "{s}_collar"),
    (r"upperarm0[12]\.(?P<s>[LR])", "{s}_shoulder"),
    (r"lowerarm0[12]\.(?P<s>[LR])", "{s}_elbow"),
    (r"(wrist|metacarpal\d|finger1-\d)\.(?P<s>[LR])", "{s}_wrist"),
    (r"finger[2-5]-\d\.(?P<s>[LR])", "{s}_hand"),
)

#: Where each SMPL joint sits: the mean of these Anny bone heads ({s} is L or R).
JOINT_FROM_BONES: dict[str, tuple[str, ...]] = {
    "pelvis": ("root",),
    "hip": ("upperleg01.{s}",),
    "knee": ("lowerleg01.{s}",),
    "ankle": ("foot.{s}",),
    "foot": tuple(f"toe{i}-1.{{s}}" for i in range(1, 6)),
    "spine1": ("spine03",),
    "spine2": ("spine02",),
    "spine3": ("spine01",),
    "neck": ("neck01",),
    "head": ("head",),
    "collar": ("clavicle.{s}", "shoulder01.{s}"),
    "shoulder": ("upperarm01.{s}",),
    "elbow": ("lowerarm01.{s}",),
    "wrist": ("wrist.{s}",),
    "hand": tuple(f"finger{i}-1.{{s}}" for i in range(2, 6)),
}


def cache_dir() -> Path:
    """Where usd-synth keeps derived data (``$USD_SYNTH_CACHE``, else ``~/.cache/usd-synth``)."""
    return Path(os.environ.get("USD_SYNTH_CACHE", Path.home() / ".cache" / "usd-synth"))


def _anny_version() -> str:
    try:
        import importlib.metadata

        return importlib.metadata.version("anny")
    except Exception as exc:  # pragma: no cover - depends on the environment
        raise UsdSynthError(f"the default body needs the 'anny' package (pip install anny): {exc}") from None


def cache_path() -> Path:
    return cache_dir() / f"anny-{_anny_version()}-v{CACHE_FORMAT}.npz"


# ---------------------------------------------------------------------------------------------------------
# the asset cache
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnyAssets:
    """Everything a body needs from Anny, as numpy arrays (see :func:`load_assets`)."""

    arrays: dict[str, np.ndarray]

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    @property
    def bone_labels(self) -> list[str]:
        return [str(b) for b in self.arrays["bone_labels"]]


def build_assets(path: Path | None = None) -> Path:
    """Extract Anny's data into the cache file (slow: loads Anny's torch model, builds its cache once)."""
    path = path or cache_path()
    # Anny starts Warp itself, which prints a banner on stdout; start it first, quietly.
    from usd_synth.kernels.device import warp

    warp()
    try:
        import anny
        import torch
        from anny.models.model_data import PHENOTYPE_VARIATIONS
        from anny.models.phenotype import make_phenotype_anchors
        from anny.paths import get_anny_root_dir
    except ImportError as exc:
        raise UsdSynthError(f"the default body needs the 'anny' package (pip install anny): {exc}") from None
    log.info("building the Anny asset cache %s (first use; Anny builds its own cache too)", path)
    model = anny.Anny()
    if list(model.phenotype_labels) != list(PHENOTYPES):
        raise UsdSynthError(f"unexpected Anny phenotypes {model.phenotype_labels}; expected {PHENOTYPES}")
    anchors = make_phenotype_anchors(torch.float64)
    # Per phenotype-variation column: the feature it belongs to and its anchor (race columns: NaN).
    features, anchor_values = [], []
    for feature, variations in PHENOTYPE_VARIATIONS.items():
        for i in range(len(variations)):
            features.append(feature)
            anchor_values.append(float(anchors[feature][i]) if feature in anchors else np.nan)
    arrays: dict[str, Any] = {
        "template_vertices": model.template_vertices.double().numpy(),
        "blendshapes": model.blendshapes.double().numpy().astype(np.float32),
        "template_bone_heads": model.template_bone_heads.double().numpy(),
        "bone_heads_blendshapes": model.bone_heads_blendshapes.double().numpy(),
        "mask": model.stacked_phenotype_blend_shapes_mask.double().numpy(),
        "projection": model.phenotype_blendshape_projection.double().numpy(),
        "variation_features": np.array(features),
        "variation_anchors": np.array(anchor_values),
        "faces": model.faces.numpy().astype(np.int32),
        "uv": model.texture_coordinates.double().numpy().astype(np.float32),
        "uv_indices": model.face_texture_coordinate_indices.numpy().astype(np.int32),
        "bone_labels": np.array(list(model.bone_labels)),
        "bone_parents": np.array(list(model.bone_parents), dtype=np.int32),
        "vertex_bone_indices": model.vertex_bone_indices.numpy().astype(np.int32),
        "vertex_bone_weights": model.vertex_bone_weights.double().numpy(),
    }
    if arrays["faces"].ndim != 2 or arrays["faces"].shape[1] != 3:
        raise UsdSynthError(f"unexpected Anny faces {arrays['faces'].shape}; expected triangles")
    # Anny's WHO-calibrated shape statistics (Beta distributions given age, per sex).
    calib = Path(get_anny_root_dir()) / "data" / "shape_calibration"
    for sex in ("boys", "girls"):
        state = torch.load(calib / f"{sex}.pth", weights_only=True, map_location="cpu")
        for group, values in state.items():
            for key, value in values.items():
                arrays[f"calib/{sex}/{group}/{key}"] = value.double().numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    return path


@functools.cache
def load_assets() -> AnnyAssets:
    """The Anny asset cache, built on first use (about a minute, once per Anny version and machine)."""
    path = cache_path()
    if not path.is_file():
        build_assets(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:
        raise UsdSynthError(f"unreadable Anny cache (delete it to rebuild): {exc}", path) from None
    return AnnyAssets(arrays)


def assets_digest(assets: AnnyAssets) -> str:
    """A short fingerprint of the cached assets (recorded in the body's metadata)."""
    h = hashlib.sha256()
    for key in ("template_vertices", "faces", "vertex_bone_weights"):
        h.update(np.ascontiguousarray(assets[key]).tobytes())
    return h.hexdigest()[:12]


# ---------------------------------------------------------------------------------------------------------
# phenotypes -> rest mesh (numpy port of Anny's phenotype_blendshape_weights + apply_linear_blendshape)
# ---------------------------------------------------------------------------------------------------------


def _hat(value: float, anchors: np.ndarray) -> np.ndarray:
    """Linear interpolation weights of ``value`` between sorted ``anchors`` (clamped, like Anny's)."""
    value = float(np.clip(value, anchors[0], anchors[-1]))
    i = int(np.clip(np.searchsorted(anchors, value, side="left"), 1, len(anchors) - 1))
    lo, hi = anchors[i - 1], anchors[i]
    alpha = (value - lo) / (hi - lo)
    out = np.zeros(len(anchors))
    out[i - 1] = 1.0 - alpha
    out[i] = alpha
    return out


def blendshape_coefficients(assets: AnnyAssets, phenotypes: dict[str, float]) -> np.ndarray:
    """Coefficients of Anny's (compacted) blend shapes for the given phenotypes (missing ones: 0.5)."""
    features = assets["variation_features"].astype(str)
    anchors = assets["variation_anchors"]
    phens = np.empty(len(features))
    for feature in dict.fromkeys(features):
        cols = np.nonzero(features == feature)[0]
        if np.isnan(anchors[cols[0]]):  # race: equal thirds (Anny's default 0.5 / 0.5 / 0.5)
            phens[cols] = 1.0 / len(cols)
        else:
            phens[cols] = _hat(phenotypes.get(feature, 0.5), anchors[cols])
    mask = assets["mask"]
    weights = np.prod(phens[None, :] * mask + (1.0 - mask), axis=1)
    return weights @ assets["projection"]


def rest_shape(assets: AnnyAssets, phenotypes: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Anny's rest vertices (V, 3) and bone heads (104, 3) for ``phenotypes`` (Anny's frame, metres)."""
    c = blendshape_coefficients(assets, phenotypes)
    verts = assets["template_vertices"] + np.tensordot(c, assets["blendshapes"].astype(np.float64), axes=1)
    heads = assets["template_bone_heads"] + np.tensordot(c, assets["bone_heads_blendshapes"], axes=1)
    return verts, heads


def stature_of(assets: AnnyAssets, phenotypes: dict[str, float]) -> float:
    """Height of the rest mesh, metres."""
    verts, _ = rest_shape(assets, phenotypes)
    return float(np.ptp(verts[:, 2]))


# ---------------------------------------------------------------------------------------------------------
# rigging
# ---------------------------------------------------------------------------------------------------------


@functools.cache
def bone_joint_map(labels: tuple[str, ...]) -> np.ndarray:
    """SMPL joint index for each Anny bone, from :data:`BONE_TO_JOINT` (public: the rigging's tests check
    that every bone maps to a joint)."""
    out = np.full(len(labels), -1, dtype=np.int64)
    for b, label in enumerate(labels):
        for pattern, joint in BONE_TO_JOINT:
            m = re.fullmatch(pattern, label)
            if m:
                side = {"L": "left", "R": "right"}.get(m.groupdict().get("s") or "", "")
                out[b] = JOINT_INDEX[joint.format(s=side)]
                break
        else:
            raise UsdSynthError(f"Anny bone {label!r} has no SMPL joint in the mapping")
    return out


def _joint_positions(labels: list[str], heads: np.ndarray) -> np.ndarray:
    index = {name: i for i, name in enumerate(labels)}
    joints = np.empty((NUM_JOINTS, 3))
    for name, j in JOINT_INDEX.items():
        if name.startswith(("left_", "right_")):
            side, base = name.split("_", 1)
            bones = [b.format(s=side[0].upper()) for b in JOINT_FROM_BONES[base]]
        else:
            bones = list(JOINT_FROM_BONES[name])
        joints[j] = heads[[index[b] for b in bones]].mean(axis=0)
    return joints


def mapped_weights(assets: AnnyAssets) -> np.ndarray:
    """Dense (V, 24) SMPL-joint weights carried over from Anny's bones as they are (no refinement)."""
    bone_joint = bone_joint_map(tuple(assets.bone_labels))
    idx = assets["vertex_bone_indices"]
    w = assets["vertex_bone_weights"]
    v = idx.shape[0]
    dense = np.zeros((v, NUM_JOINTS))
    np.add.at(dense, (np.repeat(np.arange(v), idx.shape[1]), bone_joint[idx].reshape(-1)), w.reshape(-1))
    return dense


#: Shoulder refinement of the mapped weights (:func:`refine_shoulder_weights`): the arm's weights fade
#: out over this width (m, on Anny's template) ...
ARM_TAPER_WIDTH = 0.08
#: ... ending this far lateral of the shoulder joint (m): medial of it the arm's weights are scaled down ...
ARM_TAPER_END = 0.04
#: ... and what they lose goes half to the collar, half to spine3 (the chest).
ARM_TAPER_TO_COLLAR = 0.5
#: Then this many Laplacian smoothing steps (each moving a vertex halfway to its neighbours' mean) widen
#: the transitions of the torso / collar / shoulder band.
SHOULDER_SMOOTHING_STEPS = 20
#: The joints of that band: vertices with any weight on them are smoothed (not the neck: smoothing the
#: neck's weights would carry them up into the head's skin, which turns with the head).
SHOULDER_BAND = (
    "spine1",
    "spine2",
    "spine3",
    "left_collar",
    "right_collar",
    "left_shoulder",
    "right_shoulder",
)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def refine_shoulder_weights(assets: AnnyAssets, dense: np.ndarray) -> np.ndarray:
    """``dense`` (V, 24) with the arms' influence kept off the chest and collars and the torso / collar /
    shoulder transitions widened (computed on Anny's template, so independent of phenotypes).

    Anny's clavicle and shoulder bones carry little weight: mapped as they are, the collar skin is a thin
    strip mixed from the neck, spine3 and the upper arm, and the upper arm's weights reach onto the chest,
    so an arm lowered from the A-pose or raised strains the chest and collar skin (docs/bodies.md). Two
    steps, both smooth functions of the vertex:

    1. the weights of each arm's shoulder, elbow, wrist and hand are multiplied by a smoothstep of the
       vertex's distance from the midline: 1 from :data:`ARM_TAPER_END` lateral of the shoulder joint
       outwards, 0 from :data:`ARM_TAPER_WIDTH` further in; the weight taken goes
       :data:`ARM_TAPER_TO_COLLAR` to that side's collar and the rest to spine3;
    2. :data:`SHOULDER_SMOOTHING_STEPS` Laplacian steps on the mesh graph over the vertices with any
       weight on :data:`SHOULDER_BAND` and none on an elbow (the others hold theirs, so the elbows keep
       Anny's transitions), so the transitions are wider and the strain spreads over more skin.

    Rows still sum to 1; the joint positions and the skeleton are not touched.
    """
    verts = assets["template_vertices"]
    joints = _joint_positions(assets.bone_labels, assets["template_bone_heads"])
    w = np.array(dense, dtype=np.float64)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        edge = sign * joints[JOINT_INDEX[f"{side}_shoulder"], 0] + ARM_TAPER_END
        keep = _smoothstep((sign * verts[:, 0] - (edge - ARM_TAPER_WIDTH)) / ARM_TAPER_WIDTH)
        arm = [JOINT_INDEX[f"{side}_{name}"] for name in ("shoulder", "elbow", "wrist", "hand")]
        taken = w[:, arm].sum(axis=1) * (1.0 - keep)
        w[:, arm] *= keep[:, None]
        w[:, JOINT_INDEX[f"{side}_collar"]] += ARM_TAPER_TO_COLLAR * taken
        w[:, JOINT_INDEX["spine3"]] += (1.0 - ARM_TAPER_TO_COLLAR) * taken
    mean_of_neighbours = neighbour_mean(assets["faces"], len(w))
    band = w[:, [JOINT_INDEX[j] for j in SHOULDER_BAND]].sum(axis=1) > 0
    band &= w[:, [JOINT_INDEX["left_elbow"], JOINT_INDEX["right_elbow"]]].sum(axis=1) <= 0  # elbows: Anny's
    for _ in range(SHOULDER_SMOOTHING_STEPS):
        w[band] = 0.5 * w[band] + 0.5 * (mean_of_neighbours @ w)[band]
    return w / w.sum(axis=1, keepdims=True)


def skin_weights(assets: AnnyAssets) -> np.ndarray:
    """Dense (V, 24) SMPL-joint weights: Anny's bone weights mapped onto SMPL-24
    (:func:`mapped_weights`), refined at the shoulders (:func:`refine_shoulder_weights`); independent of
    phenotypes."""
    return refine_shoulder_weights(assets, mapped_weights(assets))


@functools.cache
def _limited_weights(max_influences: int) -> tuple[np.ndarray, np.ndarray]:
    return limit_influences(skin_weights(load_assets()), max_influences)


#: Hand poses baked into the bind mesh (Anny's fingers are bones; SMPL-24 has none, so the fingers keep
#: this pose while the hand joint moves). Degrees of flexion per finger joint (knuckle, middle, tip) for
#: the index finger; the middle, ring and little fingers curl a little more (:data:`FINGER_CASCADE`), as a
#: relaxed hand does; and for the thumb (base, middle, tip).
HAND_POSES: dict[str, dict[str, tuple[float, float, float]]] = {
    "open": {"fingers": (0.0, 0.0, 0.0), "thumb": (0.0, 0.0, 0.0)},
    "relaxed": {"fingers": (14.0, 26.0, 14.0), "thumb": (4.0, 10.0, 10.0)},
    "fist": {"fingers": (80.0, 95.0, 60.0), "thumb": (20.0, 35.0, 40.0)},
}
HANDS = tuple(HAND_POSES)
#: Curl of each finger (index, middle, ring, little) relative to the index finger.
FINGER_CASCADE = (1.0, 1.12, 1.24, 1.36)


def _rotation(axis: np.ndarray, degrees: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    a = np.radians(degrees)
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + np.sin(a) * k + (1.0 - np.cos(a)) * (k @ k)


def pose_hands(
    assets: AnnyAssets, verts: np.ndarray, heads: np.ndarray, hands: str = "relaxed"
) -> np.ndarray:
    """``verts`` (Anny's rest vertices) with the fingers curled into the ``hands`` pose (:data:`HAND_POSES`).

    Each finger bends towards the palm about one axis (normal to the finger and to the palm's normal),
    each phalanx about its own joint, down the chain, and the mesh follows by linear blend skinning with
    Anny's own finger weights. The palm's side is the side of the knuckle plane the thumb tip lies on. The
    knuckles do not move, so the SMPL hand and wrist joints stay where they are.
    """
    if hands not in HAND_POSES:
        raise UsdSynthError(f"overrides hands={hands}: expected one of {', '.join(HANDS)}", field="overrides")
    pose = HAND_POSES[hands]
    if not any(pose["fingers"]) and not any(pose["thumb"]):
        return verts
    index = {name: i for i, name in enumerate(assets.bone_labels)}
    n_bones = len(index)
    rot = np.tile(np.eye(3), (n_bones, 1, 1))
    trans = np.zeros((n_bones, 3))
    for s in ("L", "R"):
        h = {f"{f}-{k}": heads[index[f"finger{f}-{k}.{s}"]] for f in range(1, 6) for k in (1, 2, 3)}
        knuckles = np.array([h[f"{f}-1"] for f in range(2, 6)])
        along = np.mean([h[f"{f}-3"] - h[f"{f}-1"] for f in range(2, 6)], axis=0)
        across = knuckles[-1] - knuckles[0]
        normal = np.cross(along, across)
        if normal @ (h["1-3"] - knuckles.mean(axis=0)) < 0:
            normal = -normal
        chains = [(f, FINGER_CASCADE[f - 2], pose["fingers"]) for f in range(2, 6)]
        chains.append((1, 1.0, pose["thumb"]))
        for f, gain, angles in chains:
            direction = h[f"{f}-3"] - h[f"{f}-1"]
            axis = np.cross(direction, normal)
            g_rot, g_trans = np.eye(3), np.zeros(3)
            for k, deg in zip((1, 2, 3), angles, strict=True):
                r = _rotation(axis, gain * deg)
                head = heads[index[f"finger{f}-{k}.{s}"]]
                # G_k = G_{k-1} o (rotation about this joint's rest position)
                g_trans = g_rot @ (head - r @ head) + g_trans
                g_rot = g_rot @ r
                b = index[f"finger{f}-{k}.{s}"]
                rot[b], trans[b] = g_rot, g_trans
    idx = assets["vertex_bone_indices"]
    w = assets["vertex_bone_weights"]
    posed = np.einsum("vkij,vj->vki", rot[idx], verts) + trans[idx]
    return np.einsum("vk,vki->vi", w, posed)


def anny_body(
    phenotypes: dict[str, float],
    max_influences: int = 4,
    color: tuple[float, float, float] = (0.8, 0.6, 0.5),
    params: dict[str, Any] | None = None,
    hands: str = "relaxed",
) -> Body:
    """An Anny body with the given phenotypes and hand pose (:data:`HAND_POSES`), rigged onto SMPL-24 (see
    the module docstring)."""
    unknown = set(phenotypes) - set(PHENOTYPES)
    if unknown:
        raise UsdSynthError(f"unknown Anny phenotype(s) {sorted(unknown)}; known: {', '.join(PHENOTYPES)}")
    assets = load_assets()
    verts, heads = rest_shape(assets, phenotypes)
    verts = pose_hands(assets, verts, heads, hands)
    ground = verts[:, 2].min()
    to_body = REST_ROOT_MATRIX.T  # world (Z up, facing -Y) -> SMPL body frame (Y up, facing +Z)
    verts = (verts - [0.0, 0.0, ground]) @ to_body.T
    joints = (_joint_positions(assets.bone_labels, heads) - [0.0, 0.0, ground]) @ to_body.T
    indices, weights = _limited_weights(max_influences)
    info = {"model": "anny", "anny_version": _anny_version(), "assets": assets_digest(assets)}
    info.update({k: float(v) for k, v in sorted(phenotypes.items())})
    info["hands"] = hands
    info.update(params or {})
    body = Body(
        model="anny",
        points=verts,
        faces=assets["faces"],
        joints=joints,
        bind_rotations=bind_rotations_from_joints(joints),
        joint_indices=indices,
        joint_weights=weights,
        uv=assets["uv"],
        uv_indices=assets["uv_indices"].reshape(-1),
        color=color,
        params=info,
    )
    body.params["stature_m"] = round(body.stature, 4)
    return body
