"""``usd-synth stage`` / ``package``: outputs, and bad input as one line, exit 2, nothing written."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from usd_synth.cli.main import cli

from usd_synth.compose.config import scene_config
from usd_synth.errors import UsdSynthError


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_list_templates():
    r = run("stage", "--list-templates")
    assert r.exit_code == 0
    lines = r.output.strip().splitlines()
    assert len(lines) >= 6 and all("\t" in line for line in lines)
    assert {"living_room", "studio", "park", "warehouse_aisle"} <= {line.split("\t")[0] for line in lines}


def test_stage_and_package(tmp_path, motions):
    out = tmp_path / "scene"
    cfg = tmp_path / "scene.yaml"
    cfg.write_text("scene:\n  cameras:\n    count: 2\n  clip:\n    max_frames: 40\n")
    r = run(
        "stage", "--actor", motions["wave"], "-o", out, "--seed", 5, "--template", "studio", "--config", cfg
    )
    assert r.exit_code == 0, r.output
    assert "template studio" in r.output and (out / "manifest.json").is_file()
    m = json.loads((out / "manifest.json").read_text())
    assert len(m["cameras"]) == 2 and m["frames"] == 40
    r = run("package", out / "scene.usda", "-o", tmp_path / "scene.usdz")
    assert r.exit_code == 0, r.output and (tmp_path / "scene.usdz").stat().st_size > 0


@pytest.mark.parametrize(
    "case, expect",
    [
        ("missing", "no such"),
        ("not_motion", "not_motion.txt"),
        ("template", "--template"),
        ("unknown_key", "cameras.zoom: unknown key"),
        ("out_of_range", "cameras.count"),
        ("crowd", "do not fit"),
    ],
)
def test_bad_input(tmp_path, motions, case, expect):
    out = tmp_path / "out"
    args = ["stage", "--actor", motions["walk"], "-o", out, "--seed", 1]
    if case == "missing":
        args[2] = tmp_path / "nope.npy"
    elif case == "not_motion":
        bad = tmp_path / "not_motion.txt"
        bad.write_text("hello")
        args[2] = bad
    elif case == "template":
        args += ["--template", "moon_base"]
    elif case in ("unknown_key", "out_of_range"):
        cfg = tmp_path / "c.json"
        body = {"cameras": {"zoom": 2}} if case == "unknown_key" else {"cameras": {"count": 99}}
        cfg.write_text(json.dumps(body))
        args += ["--config", cfg]
    elif case == "crowd":
        args += ["--template", "carehome_bedroom"]
        for _ in range(12):
            args += ["--actor", motions["walk"]]
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert expect in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
    assert not out.exists()
    assert not any(p.name.startswith(".out") for p in tmp_path.iterdir())


def test_config_errors_name_the_key():
    cases = {
        "props.count.min": {"props": {"count": {"min": -3}}},
        "cameras.distance_m": {"cameras": {"distance_m": {"min": 5, "max": 1}}},
        "lights.colour": {"lights": {"colour": 1}},
        "clip.fps": {"clip": {"fps": 0}},
    }
    for key, data in cases.items():
        with pytest.raises(UsdSynthError) as info:
            scene_config(data)
        assert info.value.field == key and str(info.value).startswith(key)
    assert scene_config({}).cameras.count == 3
