"""A clip's labels as a COCO person-keypoints document (``coco.json``).

One image per frame (``file_name`` ``rgb/%06d.png``, with ``video`` and ``frame_index`` for readers that
decode ``rgb.mp4`` instead), one annotation per actor per frame whose instance mask is not empty, and the
``person`` category with COCO's 17 keypoint names and skeleton. Keypoints are ``[x, y, v]`` flattened, in
pixel-index coordinates (pixel centres at integers), ``v`` as COCO: 0 not labelled (``x = y = 0``), 1
labelled but hidden, 2 visible; ``num_keypoints`` counts ``v > 0``. ``bbox`` is COCO's ``[x, y, w, h]``
in continuous coordinates where pixel ``i`` spans ``[i, i + 1)`` (so ``x`` = the mask's first column, as
pycocotools computes boxes from masks); ``area`` is the mask's pixel count. Extra fields: ``track_id``
(the instance id, stable over the clip), ``action``, ``truncation``, ``occlusion``.
"""

from __future__ import annotations

from usd_synth.render.labels import COCO_KEYPOINTS, COCO_SKELETON


def coco_document(
    frames: list[dict],
    width: int,
    height: int,
    indices: list[int],
    png_frames: bool = True,
    clip: dict | None = None,
) -> dict:
    """COCO keypoints JSON for frame labels from :func:`usd_synth.render.labels.frame_labels`."""
    images, annotations = [], []
    for image_id, (index, labels) in enumerate(zip(indices, frames, strict=True), start=1):
        images.append(
            {
                "id": image_id,
                "file_name": f"rgb/{index:06d}.png",
                "width": int(width),
                "height": int(height),
                "frame_index": int(index),
                "video": "rgb.mp4",
                "time_code": labels.get("time_code"),
            }
        )
        for actor in labels.get("actors", []):
            if not actor.get("bbox") or not actor.get("area"):
                continue
            x, y, w, h = actor["bbox"]
            kps = [
                float(c) if i % 3 < 2 else int(c) for kp in actor["coco_keypoints"] for i, c in enumerate(kp)
            ]
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "bbox": [x + 0.5, y + 0.5, w, h],
                    "area": float(actor["area"]),
                    "iscrowd": 0,
                    "keypoints": kps,
                    "num_keypoints": int(sum(1 for kp in actor["coco_keypoints"] if kp[2] > 0)),
                    "track_id": actor.get("id"),
                    "action": actor.get("label", ""),
                    "truncation": actor.get("truncation"),
                    "occlusion": actor.get("occlusion"),
                }
            )
    return {
        "info": {"description": "usd-synth rendered clip", **({"fps": clip.get("fps")} if clip else {})},
        "images": images,
        "annotations": annotations,
        "categories": [
            {
                "id": 1,
                "name": "person",
                "supercategory": "person",
                "keypoints": list(COCO_KEYPOINTS),
                "skeleton": [list(e) for e in COCO_SKELETON],
            }
        ],
    }
