"""Reading a YAML or JSON config file: the one reader behind scene, effects and dataset configs.

Why one reader: the three configs are written by the same users in the same formats, so they should fail the
same way. A missing file, a file over 4 MB (configs are small; a wrong path to a data file should not be
parsed), bytes that are not UTF-8 and text that does not parse all give one :class:`UsdSynthError` naming the
file. ``.json`` files are read as JSON, anything else as YAML (a superset of JSON). Validation against each
config's schema stays with the config (``scene_config``, ``effects_config``, ``dataset_config``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from usd_synth.errors import UsdSynthError

#: Largest config file read, bytes.
MAX_CONFIG_BYTES = 4_000_000


def read_config_file(path: str | Path, field: str = "config", section: str | None = None) -> Any:
    """The parsed content of the YAML/JSON file at ``path`` (None for an empty file).

    ``section``: a document whose only top-level key is ``section`` (``scene:``, ``effects:``) is unwrapped to
    that key's value, so a config can be written bare or under its name. ``field`` names the option errors are
    about (the CLI turns it into its flag)."""
    path = Path(path)
    if not path.is_file():
        raise UsdSynthError("no such config file", path, field=field)
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise UsdSynthError(
            f"config file is larger than {MAX_CONFIG_BYTES // 1_000_000} MB", path, field=field
        )
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 - any decoding or parse failure is the user's file
        detail = " ".join(str(exc).split())[:200]
        raise UsdSynthError(f"not readable as YAML or JSON: {detail}", path, field=field) from None
    if section is not None and isinstance(data, dict) and set(data) == {section}:
        data = data[section]
    return data
