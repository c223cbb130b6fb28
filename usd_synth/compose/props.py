"""The prop catalogue: furniture-like shapes made of boxes (tables, chairs, beds, shelves, boxes, racks,
benches, bins, planters), each drawn with seeded sizes, and USD files from a user folder.

A prop is a list of axis-aligned boxes in its own frame (origin on the floor at its footprint's centre,
Z up); the composer turns each box into a Mesh with a collider under the prop's Xform.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: class -> material categories its boxes draw from
PROP_MATERIALS = {
    "table": ("wood_light", "wood_walnut", "plastic_white", "metal_brushed"),
    "chair": ("wood_light", "wood_walnut", "plastic_red", "plastic_blue", "metal_painted_blue"),
    "stool": ("wood_light", "plastic_red", "metal_brushed"),
    "sofa": ("fabric_sofa_teal", "fabric_grey_knit", "leather_brown", "fabric_black"),
    "bed": ("wood_light", "wood_walnut", "metal_painted_blue", "plastic_white"),
    "shelf": ("wood_light", "wood_walnut", "metal_brushed"),
    "cabinet": ("wood_light", "wood_walnut", "plastic_white", "metal_painted_blue"),
    "lab_bench": ("plastic_white", "wood_light", "metal_brushed"),
    "box": ("cardboard",),
    "box_stack": ("cardboard",),
    "pallet": ("wood_light",),
    "pallet_rack": ("metal_painted_yellow", "metal_painted_blue"),
    "bench": ("wood_light", "wood_walnut", "metal_painted_blue"),
    "bin": ("plastic_blue", "plastic_red", "metal_brushed"),
    "planter": ("floor_concrete", "wood_walnut"),
}

Box = tuple[tuple[float, float, float], tuple[float, float, float]]


@dataclass
class PropShape:
    cls: str
    boxes: list[Box]
    #: (x0, y0, z0, x1, y1, z1) bound in the prop's frame
    bound: tuple[float, ...]


def _legs(w: float, d: float, h: float, t: float = 0.05) -> list[Box]:
    hx, hy = w / 2 - t, d / 2 - t
    return [((sx * hx - t / 2, sy * hy - t / 2, 0.0), (sx * hx + t / 2, sy * hy + t / 2, h))
            for sx in (-1, 1) for sy in (-1, 1)]  # fmt: skip


def make_prop(cls: str, rng: np.random.Generator) -> PropShape:
    """The boxes of a prop of class ``cls`` with sizes drawn from ``rng``."""
    u = rng.uniform
    boxes: list[Box]
    if cls == "table":
        w, d, h = u(0.8, 1.6), u(0.6, 0.9), u(0.7, 0.78)
        boxes = [*_legs(w, d, h - 0.04), ((-w / 2, -d / 2, h - 0.04), (w / 2, d / 2, h))]
    elif cls in ("chair", "stool"):
        w, h = u(0.4, 0.5), u(0.42, 0.48) if cls == "chair" else u(0.55, 0.75)
        boxes = [*_legs(w, w, h - 0.04, 0.04), ((-w / 2, -w / 2, h - 0.04), (w / 2, w / 2, h))]
        if cls == "chair":
            boxes.append(((-w / 2, w / 2 - 0.05, h), (w / 2, w / 2, h + u(0.35, 0.5))))
    elif cls == "sofa":
        w, d = u(1.6, 2.2), u(0.8, 0.95)
        boxes = [
            ((-w / 2, -d / 2, 0), (w / 2, d / 2, 0.42)),
            ((-w / 2, d / 2 - 0.2, 0.42), (w / 2, d / 2, 0.85)),
            ((-w / 2, -d / 2, 0.42), (-w / 2 + 0.18, d / 2 - 0.2, 0.62)),
            ((w / 2 - 0.18, -d / 2, 0.42), (w / 2, d / 2 - 0.2, 0.62)),
        ]
    elif cls == "bed":
        w, d = u(0.9, 1.0), u(1.95, 2.1)
        boxes = [
            ((-w / 2, -d / 2, 0), (w / 2, d / 2, 0.45)),
            ((-w / 2, -d / 2 + 0.05, 0.45), (w / 2, d / 2, 0.6)),
            ((-w / 2, d / 2 - 0.06, 0), (w / 2, d / 2, 1.0)),
        ]
    elif cls in ("shelf", "pallet_rack"):
        big = cls == "pallet_rack"
        w, d, h = (u(2.4, 3.0), u(0.9, 1.1), u(2.5, 4.0)) if big else (u(0.8, 1.2), u(0.3, 0.4), u(1.4, 2.0))
        t = 0.08 if big else 0.03
        boxes = [((-w / 2, -d / 2, 0), (-w / 2 + t, d / 2, h)), ((w / 2 - t, -d / 2, 0), (w / 2, d / 2, h))]
        levels = 3 if big else int(rng.integers(3, 6))
        for k in range(levels + 1):
            z = k * (h - t) / levels
            boxes.append(((-w / 2, -d / 2, z), (w / 2, d / 2, z + t)))
    elif cls == "cabinet":
        w, d, h = u(0.5, 1.0), u(0.4, 0.6), u(0.8, 1.9)
        boxes = [((-w / 2, -d / 2, 0), (w / 2, d / 2, h))]
    elif cls == "lab_bench":
        w, d, h = u(1.8, 2.6), u(0.7, 0.9), u(0.88, 0.95)
        boxes = [
            ((-w / 2, -d / 2, 0), (w / 2, d / 2, h - 0.05)),
            ((-w / 2 - 0.02, -d / 2 - 0.02, h - 0.05), (w / 2 + 0.02, d / 2 + 0.02, h)),
        ]
    elif cls == "box":
        s = u(0.3, 0.7, 3)
        boxes = [((-s[0] / 2, -s[1] / 2, 0), (s[0] / 2, s[1] / 2, s[2]))]
    elif cls == "box_stack":
        s, n = u(0.4, 0.6), int(rng.integers(2, 5))
        boxes = [((-s / 2, -s / 2, k * s), (s / 2, s / 2, (k + 1) * s)) for k in range(n)]
    elif cls == "pallet":
        boxes = [((-0.6, -0.4, 0), (0.6, 0.4, 0.14))]
        if rng.random() < 0.7:
            h = u(0.3, 1.2)
            boxes.append(((-0.55, -0.35, 0.14), (0.55, 0.35, 0.14 + h)))
    elif cls == "bench":
        w, d = u(1.2, 1.8), u(0.4, 0.5)
        boxes = [*_legs(w, d, 0.42, 0.06), ((-w / 2, -d / 2, 0.42), (w / 2, d / 2, 0.47)),
                 ((-w / 2, d / 2 - 0.05, 0.47), (w / 2, d / 2, 0.85))]  # fmt: skip
    elif cls == "bin":
        s, h = u(0.4, 0.6), u(0.8, 1.1)
        boxes = [((-s / 2, -s / 2, 0), (s / 2, s / 2, h))]
    elif cls == "planter":
        w, d = u(0.8, 2.0), u(0.5, 0.9)
        boxes = [((-w / 2, -d / 2, 0), (w / 2, d / 2, u(0.4, 0.7)))]
    else:  # pragma: no cover - the catalogue is closed
        raise ValueError(cls)
    arr = np.array(boxes, dtype=float)
    bound = (*arr[:, 0].min(axis=0).tolist(), *arr[:, 1].max(axis=0).tolist())
    boxes = [(tuple(round(v, 4) for v in lo), tuple(round(v, 4) for v in hi)) for lo, hi in arr.tolist()]
    return PropShape(cls, boxes, tuple(round(v, 4) for v in bound))  # type: ignore[arg-type]
