"""The ``usd-synth fractal`` command end to end: files, determinism, degeneracy, class structure, errors.

The default run exercises the acceptance geometry (6 classes x 5 clips, 128 px, 18 frames) with a smaller
chaos-game budget; the ``slow`` tests repeat it with the paper's full budget (128 points x 7,500).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from usd_synth.cli.main import cli

from usd_synth.fractal.quality import LIT_RANGE, frame_changes, lit_fractions
from usd_synth.fractal.video_io import read_mp4

FAST_BUDGET = ["--points", "64", "--iterations", "1500"]


def _run(*args) -> object:
    return CliRunner().invoke(cli, ["fractal", *[str(a) for a in args]])


def _make(out: Path, *extra) -> Path:
    result = _run("-o", out, "--classes", 6, "--clips-per-class", 5, "--size", 128, "--frames", 18, *extra)
    assert result.exit_code == 0, result.output
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _features(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """Crude per-clip features: a 16x16 average of each clip's maximum over time."""
    manifest = json.loads((root / "manifest.json").read_text())
    feats, labels = [], []
    for rec in manifest["clips"]:
        peak = read_mp4(root / rec["path"]).astype(np.float32).max(axis=0) / 255.0
        s = peak.shape[0] // 16
        feats.append(peak.reshape(16, s, 16, s).mean(axis=(1, 3)).ravel())
        labels.append(rec["class"])
    return np.array(feats), np.array(labels)


def _knn_and_ratio(feats: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    d = np.sqrt(((feats[:, None] - feats[None]) ** 2).sum(-1))
    same = (labels[:, None] == labels[None]) & ~np.eye(len(labels), dtype=bool)
    between = labels[:, None] != labels[None]
    ratio = d[same].mean() / d[between].mean()
    np.fill_diagonal(d, np.inf)
    accuracy = float((labels[d.argmin(axis=1)] == labels).mean())
    return accuracy, float(ratio)


def _check_clips(root: Path) -> None:
    videos = sorted((root / "videos").rglob("*.mp4"))
    assert len(videos) == 30
    assert sorted(p.name for p in (root / "params").iterdir()) == [f"class_{c:04d}.npz" for c in range(6)]
    assert (root / "preview.png").is_file()
    manifest = json.loads((root / "manifest.json").read_text())
    assert len(manifest["clips"]) == 30 and manifest["degenerate_clips"] == 0
    for path in videos:
        frames = read_mp4(path)
        assert frames.shape == (18, 128, 128), path
        lit = lit_fractions(frames)
        assert LIT_RANGE[0] <= lit.min() and lit.max() <= LIT_RANGE[1], (path, lit)
        change = frame_changes(frames)
        assert change.mean() > 0.004 and (change > 0).all(), (path, change)


@pytest.fixture(scope="module")
def default_set(tmp_path_factory) -> Path:
    return _make(tmp_path_factory.mktemp("fractal") / "a", *FAST_BUDGET, "--seed", 7)


def test_acceptance_files_and_no_degenerate_clip(default_set):
    _check_clips(default_set)
    manifest = json.loads((default_set / "manifest.json").read_text())
    rec = manifest["clips"][0]
    assert rec["path"] == "videos/train/class_0000/0000.mp4" and rec["class"] == 0 and rec["split"] == "train"
    assert rec["frames"] == 18 and rec["size"] == [128, 128] and rec["fps"] == 12
    assert any(r["emulation"] for r in manifest["clips"])  # default emulation does something


def test_same_seed_same_bytes_whatever_the_worker_count(default_set, tmp_path):
    again = _make(tmp_path / "b", *FAST_BUDGET, "--seed", 7, "--workers", 2)
    assert _files(again) == _files(default_set)
    other = _make(tmp_path / "c", *FAST_BUDGET, "--seed", 8)
    first_clip = "videos/train/class_0000/0000.mp4"
    assert _files(other)[first_clip] != _files(again)[first_clip]


def test_classes_consistent_and_instances_diverse(tmp_path):
    root = _make(tmp_path / "n", *FAST_BUDGET, "--emulate", "none", "--seed", 3)
    accuracy, ratio = _knn_and_ratio(*_features(root))
    assert accuracy >= 0.40, accuracy
    assert ratio >= 0.5, ratio


@pytest.mark.slow
def test_acceptance_at_the_papers_budget(tmp_path):
    first = _make(tmp_path / "p1", "--seed", 11)
    _check_clips(first)
    second = _make(tmp_path / "p2", "--seed", 11, "--workers", 2)
    assert _files(second) == _files(first)
    none = _make(tmp_path / "pn", "--seed", 11, "--emulate", "none")
    accuracy, ratio = _knn_and_ratio(*_features(none))
    assert accuracy >= 0.40 and ratio >= 0.5, (accuracy, ratio)


@pytest.mark.slow
def test_no_class_is_degenerate_at_full_size(tmp_path):
    # Under the seeding of the time (before the one seeding rule), seed 0 drew as class 13 a periodic
    # system whose middle frames collapse to 0.3 % lit area at 256 px while its first, middle and last
    # frames look fine (and fill 2 % of 64 px pixels): every clip of it used to be redrawn 12 times and
    # kept degenerate. The full-size class filter rejects such systems, whichever seed draws them.
    result = _run("-o", tmp_path / "s", "--classes", 20, "--clips-per-class", 1, "--size", 256,
                  "--emulate", "none", "--variation-p", 0, "--seed", 0, "--workers", 2)  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["degenerate_clips"] == 0
    assert sum(r["attempts"] for r in manifest["clips"]) <= 24  # redraws stay rare


def test_unlabelled_png_and_val_split(tmp_path):
    out = tmp_path / "u"
    result = _run("-o", out, "--unlabelled", "--clips", 4, "--size", 32, "--frames", 6, "--format", "png",
                  "--val-fraction", 0.25, "--color", *FAST_BUDGET)  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert [r["split"] for r in manifest["clips"]] == ["train", "train", "train", "val"]
    assert manifest["classes"] is None and all(r["class"] is None for r in manifest["clips"])
    pngs = sorted((out / "videos" / "val" / "0003").glob("*.png"))
    assert len(pngs) == 6
    assert len(list((out / "params").glob("clip_*.npz"))) == 4


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--classes", "0"], "--classes must be at least 1"),
        (["--classes", "2", "--size", "8"], "--size must be at least 16"),
        (["--classes", "2", "--emulate", "sparkle"], "--emulate sparkle"),
        (["--classes", "2", "--clips-per-class", "0"], "--clips-per-class must be at least 1"),
        (["--unlabelled"], "--clips must be at least 1"),
        (["--classes", "2", "--device", "tpu"], "--device tpu"),
    ],
)
def test_bad_input_one_line_exit_2_no_output(tmp_path, args, needle):
    out = tmp_path / "bad"
    result = _run("-o", out, *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert not out.exists()


def test_unknown_emulation_key_in_file(tmp_path):
    cfg = tmp_path / "emu.json"
    cfg.write_text(json.dumps({"zoom_blur": {"p": 1}}))
    result = _run("-o", tmp_path / "x", "--classes", 1, "--emulate", cfg)
    assert result.exit_code == 2
    assert "unknown emulation key 'zoom_blur'" in result.stderr and str(cfg) in result.stderr


def test_failure_leaves_no_partial_output(tmp_path, monkeypatch):
    from usd_synth.fractal import dataset

    def boom(job):
        raise RuntimeError("encoder died")

    monkeypatch.setattr(dataset, "run_clip", boom)
    out = tmp_path / "partial"
    with pytest.raises(RuntimeError):
        dataset.generate_dataset(dataset.FractalDatasetSpec(classes=1, clips_per_class=1, size=32, frames=4,
                                                            points=8, iterations=100), out)  # fmt: skip
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".partial")]


def test_refuses_to_replace_a_non_empty_folder(tmp_path):
    out = tmp_path / "keep"
    out.mkdir()
    (out / "mine.txt").write_text("x")
    result = _run("-o", out, "--classes", 1, "--clips-per-class", 1, "--size", 32, "--frames", 4)
    assert result.exit_code == 2 and "--overwrite" in result.stderr
    assert (out / "mine.txt").exists()
