"""The stage templates and the material library: counts, structure, validity, size."""

from __future__ import annotations

from importlib import resources

import pytest

from usd_synth.compose import load_template, template_names
from usd_synth.compose.library_gen import MATERIALS
from usd_synth.usd.materials import material_names
from usd_synth.usd.validate import errors, validate_file


def test_templates():
    names = template_names()
    assert len(names) >= 6
    for name in names:
        t = load_template(name)
        assert t.description and t.region_rect("walkable") and t.region_rect("cameras")
        assert t.floor_materials and set(t.floor_materials) <= set(material_names())
        assert set(t.wall_materials) <= set(material_names())
        if t.indoor:
            assert {"Floor", "Ceiling", "WallNorth"} <= set(t.surfaces)
            assert any(kind == "ceiling_corner" for kind, _ in t.mounts.values())


def test_materials_and_textures():
    names = material_names()
    assert len(MATERIALS) >= 24 and set(MATERIALS) <= set(names)
    assert {"skin", "default_grey"} <= set(names)
    assert sum(1 for n in names if n.startswith("skin_tone")) >= 5
    textures = list(resources.files("usd_synth.materials").joinpath("textures").iterdir())
    assert len(textures) >= 20 and sum(t.stat().st_size for t in textures) < 3_000_000  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["materials", "stages"])
def test_library_files_validate(kind):
    folder = resources.files(f"usd_synth.{kind}")
    files = sorted(f for f in folder.iterdir() if f.name.endswith(".usda"))
    for f in files:
        # USD's validators on every file; NVIDIA's too on a few (it is slower)
        omni = (
            None
            if f.name in ("wood_light.usda", "skin_tone_1.usda", "living_room.usda", "park.usda")
            else False
        )
        found = errors(validate_file(f, omni=omni))
        assert found == [], (f.name, [i.line() for i in found])
