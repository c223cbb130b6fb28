"""The one YAML/JSON config reader behind the scene, effects and dataset configs."""

from __future__ import annotations

import pytest

from usd_synth.compose.config import load_scene_config
from usd_synth.config_files import MAX_CONFIG_BYTES, read_config_file
from usd_synth.dataset.config import load_dataset_config
from usd_synth.errors import UsdSynthError
from usd_synth.render.clip import load_effects


def test_yaml_json_sections_and_empty(tmp_path):
    (tmp_path / "a.yaml").write_text("scene:\n  clip: {frames: 12}\n")
    assert read_config_file(tmp_path / "a.yaml") == {"scene": {"clip": {"frames": 12}}}
    assert read_config_file(tmp_path / "a.yaml", section="scene") == {"clip": {"frames": 12}}
    (tmp_path / "b.json").write_text('{"noise": {"probability": 0.5}}')
    assert read_config_file(tmp_path / "b.json", section="effects") == {"noise": {"probability": 0.5}}
    (tmp_path / "empty.yaml").write_text("")
    assert read_config_file(tmp_path / "empty.yaml") is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.yaml", None, "no such config file"),
        ("bad.yaml", b"a: [\n", "not readable as YAML or JSON"),
        ("bad.json", b"{'single': 1}", "not readable as YAML or JSON"),
        ("latin1.yaml", "clip: caf\xe9\n".encode("latin-1"), "not readable as YAML or JSON"),
        ("huge.yaml", b"#" * (MAX_CONFIG_BYTES + 1), "larger than 4 MB"),
    ],
)
def test_bad_files_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    for read in (read_config_file, load_scene_config, load_effects, load_dataset_config):
        with pytest.raises(UsdSynthError, match=message) as info:
            read(path)
        assert info.value.path == path, read.__name__
