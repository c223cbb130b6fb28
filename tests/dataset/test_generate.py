"""The dataset builder end to end on a micro config (4 clips of 8 frames at 64x48): layouts, checksums,
splits, COCO, skeletons, resume, failures, refusals. The acceptance runs on examples/tiny.yaml (workers 1
and 2, Ray, SIGKILL + resume) are in test_generate_slow.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest

from usd_synth.dataset.builder import generate
from usd_synth.dataset.config import dataset_config
from usd_synth.dataset.job import sha256_file
from usd_synth.errors import UsdSynthError

MICRO = {
    "seed": 3,
    "classes": {
        "wave": {"sources": [{"builtin": "wave", "count": 2}]},
        "squat": {"sources": [{"builtin": "squat", "count": 2}]},
    },
    "balance": {"target": 2},
    "mixes": {"real_mix": 0.0, "synthetic_mix": 0.0},
    "variation": {"mirror": {"probability": 0.5}},
    "scene": {"props": {"count": {"min": 0, "max": 1}}, "cameras": {"distance_m": {"min": 2.5, "max": 4.0}}},
    "render": {"resolution": "64x48", "frames": 8},
    "split": {"train": 0.5, "val": 0.5, "test": 0.0},
}


def micro(**changes) -> dict:
    data = json.loads(json.dumps(MICRO))
    for key, value in changes.items():
        node = data
        *parents, last = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return data


def rows_of(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("ds") / "micro"
    summary = generate(dataset_config(MICRO), out, executor="serial")
    return out, summary


def test_every_clip_is_in_the_manifest_with_matching_checksums(made) -> None:
    out, summary = made
    rows = rows_of(out)
    assert summary["complete"] and len(rows) == summary["clips"] == 4
    assert {r["class"] for r in rows} == {"wave", "squat"}
    for r in rows:
        assert r["files"], r["id"]
        for rel, digest in r["files"].items():
            assert sha256_file(out / rel) == digest, rel
    listed = {rel for r in rows for rel in r["files"]}
    on_disk = {p.relative_to(out).as_posix() for top in ("videos", "tao", "skeletons", "labels", "sheets")
               for p in (out / top).rglob("*") if p.is_file() and p.parent != out / top}  # fmt: skip
    assert on_disk == listed  # nothing unlisted, nothing missing
    assert not (out / ".work").exists()
    assert json.loads((out / "dataset.json").read_text())["complete"] is True


def test_tao_layout_has_every_frame_and_the_video_matches(made) -> None:
    out, _ = made
    for r in rows_of(out):
        frames = sorted((out / "tao" / r["class"] / r["id"] / "rgb").glob("*.png"))
        assert [f.name for f in frames] == [f"{i:06d}.png" for i in range(r["frames"])]
        video = out / "videos" / r["split"] / r["class"] / f"{r['id']}.mp4"
        with av.open(str(video)) as container:
            assert sum(1 for _ in container.decode(video=0)) == r["frames"]
    for split in ("train", "val", "test"):
        listed = (out / "tao" / f"{split}.txt").read_text().split()
        assert listed == [f"{r['class']}/{r['id']}" for r in rows_of(out) if r["split"] == split]
    assert (out / "tao" / "classes.txt").read_text().split() == ["wave", "squat"]


def test_no_source_motion_in_two_splits(made) -> None:
    out, _ = made
    splits: dict[str, set[str]] = {}
    for r in rows_of(out):
        for s in r["sources"]:
            splits.setdefault(s, set()).add(r["split"])
    assert splits and all(len(v) == 1 for v in splits.values()), splits


def test_coco_per_split_points_at_tao_frames(made) -> None:
    out, _ = made
    rows = rows_of(out)
    for split in ("train", "val"):
        doc = json.loads((out / "coco" / f"{split}.json").read_text())
        expected = sum(r["frames"] for r in rows if r["split"] == split)
        assert len(doc["images"]) == expected > 0
        assert len({im["id"] for im in doc["images"]}) == expected
        ids = {im["id"] for im in doc["images"]}
        assert all(a["image_id"] in ids for a in doc["annotations"])
        assert all((out / im["file_name"]).is_file() for im in doc["images"])
        assert doc["categories"][0]["keypoints"][0] == "nose"


def test_skeleton_npz_matches_labels(made) -> None:
    out, _ = made
    for r in rows_of(out):
        data = np.load(out / "skeletons" / r["split"] / r["class"] / f"{r['id']}.npz")
        labels = json.loads((out / "labels" / r["split"] / r["class"] / f"{r['id']}.json").read_text())
        t = r["frames"]
        assert data["keypoints_2d"].shape == (t, 24, 3) and data["joints_3d_camera"].shape == (t, 24, 3)
        assert data["coco_keypoints"].shape == (t, 17, 3) and data["K"].shape == (t, 3, 3)
        first = labels["frames"][0]["actors"][0]
        np.testing.assert_allclose(data["keypoints_2d"][0], first["keypoints_2d"], atol=1e-3)
        assert str(data["label"]) == r["class"] == first["label"]


def test_rows_record_every_sampled_value(made) -> None:
    out, _ = made
    for r in rows_of(out):
        v = r["variation"]
        assert set(v) >= {"tempo", "amplitude", "noise_deg", "mirrored", "window_start"}
        assert r["scene"]["template"] and r["scene"]["body"] and r["scene"]["camera"]["name"] == r["camera"]
        assert {"foot_skate", "jerk", "rejected"} <= set(r["quality"])
        assert 0 <= r["visibility"] <= 1
    assert (out / "report.html").read_text().count("<svg") >= 2


def test_resume_skips_verified_jobs_and_redoes_damaged_ones(made, tmp_path) -> None:
    out, _ = made
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    rows = rows_of(copy)
    video = copy / next(rel for rel in rows[0]["files"] if rel.endswith(".mp4"))
    video.write_bytes(video.read_bytes()[:100])  # truncated
    (copy / "jobs" / f"{rows[1]['job']}.json").unlink()  # record lost
    (copy / "videos" / "train" / "stray.mp4").write_bytes(b"left by a killed run")
    summary = generate(dataset_config(MICRO), copy, executor="serial", resume=True)
    assert summary["skipped"] == 2 and summary["made"] == 2
    assert (copy / "manifest.jsonl").read_bytes() == (out / "manifest.jsonl").read_bytes()
    assert not (copy / "videos" / "train" / "stray.mp4").exists()
    assert sha256_file(video) == rows[0]["files"][video.relative_to(copy).as_posix()]


def test_folder_of_another_config_or_without_resume_is_refused(made, tmp_path) -> None:
    out, _ = made
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    before = sorted(p.relative_to(copy) for p in copy.rglob("*"))
    with pytest.raises(UsdSynthError, match="different config"):
        generate(dataset_config(micro(seed=4)), copy, executor="serial")
    with pytest.raises(UsdSynthError, match="resume"):
        generate(dataset_config(MICRO), copy, executor="serial")
    assert sorted(p.relative_to(copy) for p in copy.rglob("*")) == before


def test_a_failing_job_is_recorded_and_max_failures_stops(made, tmp_path, monkeypatch) -> None:
    import usd_synth.dataset.job as job_mod

    out, _ = made
    victim = rows_of(out)[0]["job"]
    real = job_mod.job_motion

    def flaky(ctx, job, rng):
        if job.id == victim:
            raise RuntimeError("planted failure")
        return real(ctx, job, rng)

    monkeypatch.setattr(job_mod, "job_motion", flaky)
    d = tmp_path / "d"
    summary = generate(dataset_config(MICRO), d, executor="serial")
    assert [f["job"] for f in summary["failed"]] == [victim]
    assert "planted failure" in (d / "failures.jsonl").read_text()
    assert not summary["complete"] and summary["clips_in_manifest"] == 3
    assert json.loads((d / "dataset.json").read_text())["complete"] is False
    with pytest.raises(UsdSynthError, match="max_failures"):
        generate(dataset_config(MICRO), d, executor="serial", resume=True, max_failures=0)
    monkeypatch.setattr(job_mod, "job_motion", real)
    summary = generate(dataset_config(MICRO), d, executor="serial", resume=True)
    assert summary["complete"] and summary["skipped"] == 3 and not summary["failed"]
    assert (d / "manifest.jsonl").read_bytes() == (out / "manifest.jsonl").read_bytes()


def test_dry_run_writes_nothing(tmp_path) -> None:
    summary = generate(dataset_config(MICRO), tmp_path / "never", dry_run=True)
    assert not (tmp_path / "never").exists()
    assert summary["clips"] == 4 and len(summary["plan"]) == 4
    assert summary["counts"]["total"] == {"wave": 2, "squat": 2}
    assert summary["estimate"]["seconds_one_worker"] > 0 and summary["estimate"]["bytes"] > 0


def test_bad_executor_and_workers_are_refused_before_writing(tmp_path) -> None:
    with pytest.raises(UsdSynthError, match="executor"):
        generate(dataset_config(MICRO), tmp_path / "a", executor="slurm")
    with pytest.raises(UsdSynthError, match="workers"):
        generate(dataset_config(MICRO), tmp_path / "b", workers=0)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_damaged_job_that_fails_on_resume_leaves_the_manifest(made, tmp_path, monkeypatch) -> None:
    import usd_synth.dataset.job as job_mod

    out, _ = made
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    victim = rows_of(copy)[0]
    video = copy / next(rel for rel in victim["files"] if rel.endswith(".mp4"))
    video.write_bytes(b"truncated")
    real = job_mod.job_motion

    def flaky(ctx, job, rng):
        if job.id == victim["job"]:
            raise RuntimeError("planted failure")
        return real(ctx, job, rng)

    monkeypatch.setattr(job_mod, "job_motion", flaky)
    summary = generate(dataset_config(MICRO), copy, executor="serial", resume=True)
    assert [f["job"] for f in summary["failed"]] == [victim["job"]] and not summary["complete"]
    assert victim["id"] not in {r["id"] for r in rows_of(copy)}  # no row whose files do not verify
    for r in rows_of(copy):
        assert all(sha256_file(copy / rel) == h for rel, h in r["files"].items())


def test_an_address_without_ray_is_refused_before_writing(tmp_path) -> None:
    with pytest.raises(UsdSynthError, match="address"):
        generate(dataset_config(MICRO), tmp_path / "a", executor="processes", address="auto")
    assert not (tmp_path / "a").exists()
