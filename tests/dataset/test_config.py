"""Tests of the dataset config schema and loader (usd_synth.dataset.config): problems named by their key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from usd_synth.dataset.config import ConfigErrors, DatasetConfig, dataset_config, load_dataset_config
from usd_synth.dataset.template import template_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def base() -> dict[str, Any]:
    """A small valid config of built-in motions."""
    return {
        "seed": 3,
        "classes": {
            "walk": {"sources": [{"builtin": "walk", "count": 3}]},
            "wave": {"sources": [{"builtin": "wave", "count": 3}]},
        },
        "balance": {"target": 4},
    }


def with_(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with ``value`` set at the dotted key path (created as needed)."""
    out = copy.deepcopy(data)
    node = out
    keys = dotted.split(".")
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value
    return out


def problems_of(data: Any, path: Path | None = None) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        dataset_config(data, path)
    assert info.value.problems, "ConfigErrors without problems"
    assert len(info.value.lines) == len(info.value.problems)
    return info.value.problems


# ------------------------------------------------------------------------------------ good configs ----
def test_template_parses_and_validates() -> None:
    data = yaml.safe_load(template_text())
    assert isinstance(data, dict)
    cfg = dataset_config(data)
    assert isinstance(cfg, DatasetConfig)
    # the template spells out the defaults of every section it shows
    assert set(data) >= {"seed", "classes", "balance", "mixes", "variation", "render", "outputs", "split"}


def test_tiny_example_validates() -> None:
    cfg = load_dataset_config(EXAMPLES / "tiny.yaml")
    assert set(cfg.classes) == {"walk", "wave"}
    assert cfg.render.resolution == "160x120"


def test_care_home_example_validates() -> None:
    path = EXAMPLES / "care_home.yaml"
    if not path.is_file():
        pytest.skip("examples/care_home.yaml is not in this checkout")
    assert load_dataset_config(path).classes


def test_a_good_config_validates() -> None:
    cfg = dataset_config(base())
    assert cfg.seed == 3
    assert cfg.classes["walk"].sources[0].count == 3


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path, monkeypatch) -> None:
    sub = tmp_path / "conf"
    (sub / "mocap").mkdir(parents=True)
    (sub / "mocap" / "walk.bvh").write_text("HIERARCHY\n")
    (sub / "real").mkdir()
    data = base()
    data["classes"]["walk"]["sources"].append({"file": "mocap/walk.bvh"})
    data["classes"]["wave"]["sources"].append({"folder": "mocap"})
    data["real_dataset"] = {"path": "real"}
    cfg_file = sub / "c.yaml"
    cfg_file.write_text(yaml.safe_dump(data))
    monkeypatch.chdir(tmp_path)  # the working folder is not the config's folder
    assert load_dataset_config(cfg_file).real_dataset.path == "real"
    # the same file one folder up: the paths no longer resolve
    moved = tmp_path / "c.yaml"
    moved.write_text(cfg_file.read_text())
    with pytest.raises(ConfigErrors) as info:
        load_dataset_config(moved)
    keys = {p.split(":")[0] for p in info.value.problems}
    assert keys == {"classes.walk.sources.1.file", "classes.wave.sources.1.folder", "real_dataset.path"}
    assert all(line.startswith(f"{moved}: ") for line in info.value.lines)


# ------------------------------------------------------------------------------------- bad configs ----
BAD: list[tuple[str, str, Any, str]] = [
    # (case, dotted key, value, the key the problem must name)
    ("unknown-top", "colour", "red", "colour"),
    ("unknown-nested", "render.fsp", 24, "render.fsp"),
    ("wrong-type", "render.fps", "fast", "render.fps"),
    ("fps-zero", "render.fps", 0, "render.fps"),
    ("out-of-range", "split", {"train": 1.5, "val": 0.0, "test": 0.0}, "split.train"),
    ("split-sum", "split", {"train": 0.5, "val": 0.1, "test": 0.1}, "split"),
    ("mix-sum", "mixes", {"real_mix": 0.7, "synthetic_mix": 0.5}, "mixes"),
    ("weight-outside", "mixes.weights", [0.5, 1.5], "mixes"),
    ("weight-range-inverted", "mixes.weight_range", {"min": 0.8, "max": 0.2}, "mixes.weight_range"),
    ("target-and-ratio", "balance", {"target": 4, "ratio": 1.0}, "balance"),
    ("ratio-without-counts", "balance", {"ratio": 1.0}, "balance.ratio"),
    ("target-zero", "balance", {"target": 0}, "balance.target"),
    ("unknown-pass", "render.passes", ["rgb", "sparkle"], "render.passes"),
    ("no-rgb", "render.passes", ["depth"], "render.passes"),
    ("unknown-backend", "render.backend", "povray", "render.backend"),
    ("resolution-word", "render.resolution", "big", "render.resolution"),
    ("resolution-tiny", "render.resolution", "4x4", "render.resolution"),
    ("resolution-huge", "render.resolution", "99999x10", "render.resolution"),
    (
        "mirror-unknown-class",
        "variation.mirror",
        {"probability": 1, "pairs": {"walk": "jog"}},
        "variation.mirror.pairs.walk",
    ),  # fmt: skip
    (
        "mirror-unknown-key",
        "variation.mirror",
        {"probability": 1, "pairs": {"jog": "walk"}},
        "variation.mirror.pairs.jog",
    ),  # fmt: skip
    ("real-counts-unknown-class", "real_counts", {"walk": 3, "dance": 2}, "real_counts.dance"),
    ("real-counts-negative", "real_counts", {"walk": -1}, "real_counts.walk"),
    ("layout-unknown", "outputs.layouts", ["tao", "gifs"], "outputs.layouts.1"),
    ("alignment-unknown", "mixes.alignment", "magic", "mixes.alignment"),
    ("seed-negative", "seed", -1, "seed"),
    ("max-clips-zero", "max_clips", 0, "max_clips"),
    ("cameras-zero", "render.cameras_per_clip", 0, "render.cameras_per_clip"),
    ("tempo-range", "variation.tempo", {"probability": 1, "range": {"min": 0.1, "max": 1}}, "variation"),
    ("bodies-unknown", "bodies.model", "smpl", "bodies.model"),
    ("classes-empty", "classes", {}, "classes"),
]


@pytest.mark.parametrize(("dotted", "value", "key"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_value_names_its_key(dotted: str, value: Any, key: str) -> None:
    problems = problems_of(with_(base(), dotted, value))
    assert any(p.split(": ")[0] == key for p in problems), problems


CLASS_BAD: list[tuple[str, dict[str, Any], str]] = [
    ("unknown-builtin", {"builtin": "moonwalk"}, "classes.walk.sources.0.builtin"),
    ("builtin-and-file", {"builtin": "walk", "file": "w.bvh"}, "classes.walk.sources.0"),
    ("no-kind", {"count": 2}, "classes.walk.sources.0"),
    ("count-zero", {"builtin": "walk", "count": 0}, "classes.walk.sources.0.count"),
    ("unknown-source-key", {"builtin": "walk", "cnt": 2}, "classes.walk.sources.0.cnt"),
]


@pytest.mark.parametrize(("source", "key"), [c[1:] for c in CLASS_BAD], ids=[c[0] for c in CLASS_BAD])
def test_bad_source_names_its_key(source: dict[str, Any], key: str) -> None:
    data = base()
    data["classes"]["walk"]["sources"] = [source]
    problems = problems_of(data)
    assert any(p.split(": ")[0] == key for p in problems), problems


def test_unknown_synthetic_builtin_names_the_synthetic_group() -> None:
    data = base()
    data["classes"]["wave"]["synthetic"] = [{"builtin": "wave"}, {"builtin": "levitate"}]
    problems = problems_of(data)
    assert len(problems) == 1
    assert problems[0].startswith("classes.wave.synthetic.1.builtin: unknown action 'levitate'")


def test_bad_class_name() -> None:
    data = base()
    data["classes"]["no spaces/allowed"] = {"sources": [{"builtin": "walk", "seed": 50}]}
    problems = problems_of(data)
    assert [p.split(": ")[0] for p in problems] == ["classes.no spaces/allowed"]


def test_missing_motion_file_is_relative_to_the_config(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "walk.bvh").write_text("HIERARCHY\n")  # there, but not next to the config
    monkeypatch.chdir(tmp_path / "elsewhere")
    cfg_dir = tmp_path / "cfg"
    cfg_dir.mkdir()
    data = base()
    data["classes"]["walk"]["sources"] = [{"file": "walk.bvh"}]
    path = cfg_dir / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigErrors) as info:
        load_dataset_config(path)
    assert len(info.value.problems) == 1
    problem = info.value.problems[0]
    assert problem.startswith("classes.walk.sources.0.file: no such file")
    assert str(cfg_dir / "walk.bvh") in problem
    assert info.value.lines == [f"{path}: {problem}"]
    # once the file is next to the config, the config is good
    (cfg_dir / "walk.bvh").write_text("HIERARCHY\n")
    assert load_dataset_config(path).classes["walk"].sources[0].file == "walk.bvh"


def test_missing_folders(tmp_path: Path) -> None:
    data = base()
    data["classes"]["wave"]["synthetic"] = [{"folder": "no_such_motions"}]
    data["real_dataset"] = {"path": "no_such_real"}
    data["scene"] = {"props": {"user_dir": "no_such_props"}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigErrors) as info:
        load_dataset_config(path)
    keys = [p.split(": ")[0] for p in info.value.problems]
    assert sorted(keys) == ["classes.wave.synthetic.0.folder", "real_dataset.path", "scene.props.user_dir"]
    assert any(str(tmp_path / "no_such_motions") in p for p in info.value.problems)


def test_real_dataset_and_real_counts_together(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    data = with_(base(), "real_dataset", {"path": str(tmp_path / "real")})
    data["real_counts"] = {"walk": 3}
    assert [p.split(": ")[0] for p in problems_of(data)] == ["real_counts"]


def test_not_a_mapping() -> None:
    assert [p.split(": ")[0] for p in problems_of([1, 2])] == ["config"]


def test_empty_file_is_missing_classes(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    with pytest.raises(ConfigErrors) as info:
        load_dataset_config(path)
    assert [p.split(": ")[0] for p in info.value.problems] == ["classes"]


def test_several_schema_problems_give_several_lines(tmp_path: Path) -> None:
    data = base()
    data["colour"] = "red"
    data["render"] = {"fsp": 24, "fps": "fast", "resolution": "big"}
    data["split"] = {"train": 1.5, "val": 0, "test": 0}
    data["balance"] = {"target": 4, "ratio": 1.0}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigErrors) as info:
        load_dataset_config(path)
    keys = sorted(p.split(": ")[0] for p in info.value.problems)
    assert keys == sorted(
        ["colour", "render.fsp", "render.fps", "render.resolution", "split.train", "balance"]
    )
    assert len(info.value.lines) == 6
    assert all(line.startswith(f"{path}: ") for line in info.value.lines)


def test_several_semantic_problems_give_several_lines(tmp_path: Path) -> None:
    data = base()
    data["classes"]["walk"]["sources"] = [{"builtin": "moonwalk"}, {"file": "gone.bvh"}]
    data["real_counts"] = {"dance": 3}
    data["variation"] = {"mirror": {"probability": 0.5, "pairs": {"walk": "jog"}}}
    data["render"] = {"backend": "povray", "passes": ["rgb", "sparkle"]}
    problems = problems_of(data, tmp_path / "c.yaml")
    keys = sorted(p.split(": ")[0] for p in problems)
    assert keys == sorted([
        "classes.walk.sources.0.builtin",
        "classes.walk.sources.1.file",
        "real_counts.dance",
        "variation.mirror.pairs.walk",
        "render.backend",
        "render.passes",
    ])  # fmt: skip


def test_a_config_object_is_checked_again(tmp_path: Path) -> None:
    cfg = DatasetConfig.model_validate(with_(base(), "render.backend", "povray"))
    assert [p.split(": ")[0] for p in problems_of(cfg)] == ["render.backend"]


# ------------------------------------------------------------------------------------- fingerprint ----
def test_equal_configs_have_equal_fingerprints() -> None:
    a = dataset_config(base())
    b = dataset_config(copy.deepcopy(base()))
    assert a.fingerprint() == b.fingerprint()
    # key order and spelt-out defaults do not matter
    reordered = dict(reversed(list(base().items())))
    explicit = with_(base(), "render", {"backend": "pyrender", "fps": 30.0, "cameras_per_clip": 1})
    explicit["split"] = {"train": 0.8, "val": 0.1, "test": 0.1}
    assert dataset_config(reordered).fingerprint() == a.fingerprint()
    assert dataset_config(explicit).fingerprint() == a.fingerprint()
    assert len(a.fingerprint()) == 64


CHANGES = [
    ("seed", 4),
    ("classes.walk.sources", [{"builtin": "walk", "count": 4}]),
    ("classes.walk.sources", [{"builtin": "walk", "count": 3, "seed": 1}]),
    ("classes.wave.synthetic", [{"builtin": "wave", "seed": 100}]),
    ("real_counts", {"walk": 1}),
    ("balance", {"target": 5}),
    ("balance.max_synthetic_per_class", 2),
    ("mixes.real_mix", 0.4),
    ("mixes.weights", [0.5]),
    ("mixes.weight_range", {"min": 0.3, "max": 0.75}),
    ("mixes.alignment", "linear"),
    ("mixes.quality.jerk", 1000.0),
    ("mixes.on_reject", "keep"),
    ("variation.tempo.probability", 0.25),
    ("variation.mirror", {"probability": 0.5, "pairs": {"walk": "wave"}}),
    ("render.fps", 25),
    ("render.frames", 49),
    ("render.resolution", "320x241"),
    ("render.cameras_per_clip", 2),
    ("render.passes", ["rgb"]),
    ("outputs.keep_scenes", True),
    ("outputs.layouts", ["tao"]),
    ("split", {"train": 0.7, "val": 0.2, "test": 0.1}),
    ("max_clips", 99),
    ("scene.props", {"count": {"min": 1, "max": 2}}),
]


@pytest.mark.parametrize(("dotted", "value"), CHANGES, ids=[f"{c[0]}={c[1]}" for c in CHANGES])
def test_changing_a_value_changes_the_fingerprint(dotted: str, value: Any) -> None:
    before = dataset_config(base()).fingerprint()
    after = dataset_config(with_(base(), dotted, value)).fingerprint()
    assert after != before


def test_renaming_a_class_changes_the_fingerprint() -> None:
    data = base()
    renamed = copy.deepcopy(data)
    renamed["classes"]["walking"] = renamed["classes"].pop("walk")
    assert dataset_config(renamed).fingerprint() != dataset_config(data).fingerprint()


# ------------------------------------------------------------------------------------ scene config ----
@pytest.mark.parametrize(("fps", "frames", "cams"), [(30, 48, 1), (24, 30, 3), (12.5, 2, 16)])
def test_scene_config_takes_clip_and_cameras_from_render(fps: float, frames: int, cams: int) -> None:
    data = with_(base(), "render", {"fps": fps, "frames": frames, "cameras_per_clip": cams})
    data["scene"] = {"props": {"count": {"min": 1, "max": 3}}}
    cfg = dataset_config(data)
    scene = cfg.scene_config()
    assert scene.clip.fps == fps
    assert scene.clip.max_frames == frames
    assert scene.clip.frames is None
    assert scene.cameras.count == cams
    # the rest of the scene section is kept
    assert scene.props.count.min == 1 and scene.props.count.max == 3
    assert scene.cameras.distance_m == cfg.scene.cameras.distance_m
