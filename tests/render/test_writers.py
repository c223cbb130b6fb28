"""The clip writer: mp4, PNG passes, labels.json, coco.json and the contact sheet, from synthetic layers."""

from __future__ import annotations

import json

import av
import imageio.v3 as iio
import numpy as np
import pytest

from usd_synth.errors import UsdSynthError
from usd_synth.render.camera import camera_model
from usd_synth.render.labels import COCO_KEYPOINTS, COCO_SKELETON, frame_labels
from usd_synth.render.writers import (
    SHEET_FRAMES,
    SHEET_TILE_WIDTH,
    ClipWriter,
    contact_sheet,
    depth_from_png,
    depth_to_png,
    labels_json,
    normals_to_png,
    sheet_indices,
)

from .test_labels import FRAMES, SIZE, actor_file, instances_of, make_stage, rasterize  # noqa: F401


def shaded(layers: dict) -> np.ndarray:
    """A stand-in RGB frame: grey background, actors shaded by depth in their palette colour."""
    h, w = layers["depth"].shape
    rgb = np.full((h, w, 3), 70, np.uint8)
    for i in np.unique(layers["instance"])[1:]:
        m = layers["instance"] == i
        shade = np.clip(255 - (layers["depth"][m] - 3.5) * 150, 60, 255)
        rgb[m] = (shade[:, None] * np.array([[0.9, 0.7, 0.6]] if i == 1 else [[0.5, 0.7, 0.9]])).astype(
            np.uint8
        )
    return rgb


@pytest.fixture(scope="module")
def clip(actor_file, tmp_path_factory):  # noqa: F811
    stage = make_stage(actor_file, actors=((0.0, 0.0, 30.0), (0.9, 1.0, -60.0)))
    cam = stage.GetPrimAtPath("/World/Cam")
    out = tmp_path_factory.mktemp("clip")
    inst = instances_of(stage)
    all_layers = []
    with ClipWriter(out, 30, png_frames=True, instances=inst, clip_info={"camera": "/World/Cam"}) as writer:
        for t in range(FRAMES):
            model = camera_model(cam, t, *SIZE)
            layers = rasterize(stage, model, t)
            layers["rgb"] = shaded(layers)
            labels = frame_labels(stage, model, t, layers, inst)
            writer.add(t, layers, labels)
            all_layers.append(layers)
    return out, all_layers


def test_clip_folder_has_every_file(clip):
    out, layers = clip
    for name in ("rgb.mp4", "labels.json", "coco.json", "contact_sheet.png"):
        assert (out / name).is_file(), name
    for p in ("rgb", "depth", "instance", "semantic"):
        assert sorted(f.name for f in (out / p).iterdir()) == [f"{i:06d}.png" for i in range(FRAMES)]
    assert not list(out.glob(".*tmp*"))
    np.testing.assert_array_equal(iio.imread(out / "rgb" / "000003.png"), layers[3]["rgb"])
    inst = iio.imread(out / "instance" / "000002.png")
    assert inst.dtype == np.uint16
    np.testing.assert_array_equal(inst, layers[2]["instance"])


def test_depth_png_round_trips_in_millimetres(clip, tmp_path):
    out, layers = clip
    back = depth_from_png(out / "depth" / "000001.png")
    d = layers[1]["depth"]
    assert back.dtype == np.float32 and back.shape == d.shape
    assert np.abs(back - d).max() <= 0.0005 + 1e-6
    assert np.array_equal(back == 0, d == 0)
    assert depth_to_png(np.array([[0.0, 0.0004, 1.2345, 70.0, np.nan]])).tolist() == [[0, 0, 1234, 65535, 0]]


def test_mp4_has_one_frame_per_labelled_frame(clip):
    out, _ = clip
    labels = json.loads((out / "labels.json").read_text())
    with av.open(str(out / "rgb.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == len(labels["frames"]) == FRAMES
    assert frames[0].shape == (SIZE[1], SIZE[0], 3)


def test_labels_json(clip):
    out, _ = clip
    doc = json.loads((out / "labels.json").read_text())
    assert (
        doc["clip"]["fps"] == 30 and doc["clip"]["frames"] == FRAMES and doc["clip"]["camera"] == "/World/Cam"
    )
    assert doc["instances"]["/World/Actors/actor_0"] == {"id": 1, "semantic_id": 1, "label": "person"}
    frame = doc["frames"][2]
    assert frame["frame"] == 2 and len(frame["actors"]) == 2
    actor = frame["actors"][0]
    assert len(actor["keypoints_2d"]) == 24 and len(actor["coco_keypoints"]) == 17
    assert np.array(actor["joints_3d_camera"]).shape == (24, 3)
    assert np.array(actor["smpl"]["body_pose"]).shape == (23, 3)
    # one frame per line (the C encoder's speed; still diffable)
    lines = (out / "labels.json").read_text().splitlines()
    assert sum(line.startswith('  {"frame": ') for line in lines) == FRAMES


@pytest.mark.parametrize(
    "doc",
    [
        {"clip": {"a": 1, "b": {"c": [1, "x\ny"]}}, "instances": {}, "frames": [{"frame": 0}, {"frame": 1}]},
        {"clip": {}, "frames": []},
        {"frames": [{"frame": 3, "actors": []}]},
    ],
)
def test_labels_json_text_is_the_document(doc):
    assert json.loads(labels_json(doc)) == doc


def test_coco_json_structure(clip):
    out, layers = clip
    coco = json.loads((out / "coco.json").read_text())
    assert [im["file_name"] for im in coco["images"]] == [f"rgb/{i:06d}.png" for i in range(FRAMES)]
    (cat,) = coco["categories"]
    assert cat["name"] == "person" and cat["keypoints"] == list(COCO_KEYPOINTS)
    assert [tuple(e) for e in cat["skeleton"]] == list(COCO_SKELETON)
    assert len(coco["annotations"]) == 2 * FRAMES
    ids = {im["id"]: im["frame_index"] for im in coco["images"]}
    for ann in coco["annotations"]:
        assert len(ann["keypoints"]) == 51 and ann["iscrowd"] == 0 and ann["category_id"] == 1
        v = ann["keypoints"][2::3]
        assert set(v) <= {0, 1, 2} and ann["num_keypoints"] == sum(1 for x in v if x > 0)
        mask = layers[ids[ann["image_id"]]]["instance"] == ann["track_id"]
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        # COCO's frame: pixel i spans [i, i + 1)
        assert ann["bbox"] == [cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1]
        assert ann["area"] == mask.sum()
        assert ann["action"] == "wave"
    pycocotools = pytest.importorskip("pycocotools.coco")
    api = pycocotools.COCO(str(out / "coco.json"))
    assert len(api.getAnnIds()) == 2 * FRAMES


def test_contact_sheet_size_and_drawing(clip):
    out, _ = clip
    sheet = iio.imread(out / "contact_sheet.png")
    # FRAMES (6) tiles of 320 x 240 in 4 columns: 2 rows, 2 px gaps
    assert sheet.shape == (2 * SIZE[1] + 2, 4 * SIZE[0] + 3 * 2, 3)
    assert sheet_indices(150) == sorted(set(sheet_indices(150))) and len(sheet_indices(150)) == SHEET_FRAMES
    assert sheet_indices(150)[0] == 0 and sheet_indices(150)[-1] == 149
    big = np.zeros((14, 480, 640, 3), np.uint8)
    s = contact_sheet(big, [{"frame": i, "actors": []} for i in range(14)])
    tile_h = round(480 * SHEET_TILE_WIDTH / 640)
    assert s.shape == (3 * tile_h + 4, 4 * SHEET_TILE_WIDTH + 6, 3)


def test_writer_rejects_bad_input(tmp_path):
    w = ClipWriter(tmp_path / "c", 30, passes=("rgb",))
    with pytest.raises(UsdSynthError, match="rgb"):
        w.add(0, {"rgb": np.zeros((4, 4), np.uint8)}, {})
    w.add(0, {"rgb": np.zeros((5, 7, 3), np.uint8)}, {"frame": 0, "actors": []})
    with pytest.raises(UsdSynthError, match="in order"):
        w.add(0, {"rgb": np.zeros((5, 7, 3), np.uint8)}, {})
    w.add(1, {"rgb": np.zeros((5, 7, 3), np.uint8)}, {"frame": 1, "actors": []})
    w.close()  # odd sizes are padded for H.264
    with av.open(str(tmp_path / "c" / "rgb.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 2
    with pytest.raises(UsdSynthError, match="rng"):
        ClipWriter(tmp_path / "d", 30, effects={"noise": {"probability": 1.0}})
    with pytest.raises(UsdSynthError, match="fps"):
        ClipWriter(tmp_path / "e", 0)


def test_effects_go_into_the_video_and_the_record(tmp_path):
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 255, (4, 32, 48, 3), dtype=np.uint8)
    cfg = {"noise": {"probability": 1.0}, "video": {"crf": {"min": 30, "max": 30}}}
    with ClipWriter(tmp_path, 25, passes=("rgb",), png_frames=True, effects=cfg,
                    rng=np.random.default_rng(1)) as w:  # fmt: skip
        for i, f in enumerate(frames):
            w.add(i, {"rgb": f}, {"frame": i, "actors": []})
    doc = json.loads((tmp_path / "labels.json").read_text())
    assert doc["clip"]["effects"]["crf"] == 30 and "noise" in doc["clip"]["effects"]
    png = iio.imread(tmp_path / "rgb" / "000000.png")
    assert png.shape == frames[0].shape and not np.array_equal(png, frames[0])


def test_normals_png(tmp_path):
    n = np.zeros((4, 6, 3), np.float32)
    n[1:3, 2:5] = [0.0, 0.0, 1.0]
    with ClipWriter(tmp_path, 30, passes=("normals",)) as w:
        w.add(0, {"normals": n}, {"frame": 0, "actors": []})
    back = iio.imread(tmp_path / "normals" / "000000.png")
    np.testing.assert_array_equal(back, normals_to_png(n))
    assert back[0, 0].tolist() == [0, 0, 0] and back[1, 2].tolist() == [128, 128, 255]
    assert not (tmp_path / "rgb.mp4").exists() and (tmp_path / "labels.json").is_file()
