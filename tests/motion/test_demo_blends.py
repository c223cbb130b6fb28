"""The demo never ships a blend its quality check rejects without saying so (issue 10)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_demo_leaves_out_rejected_blends_and_lists_them(tmp_path, monkeypatch) -> None:
    import usd_synth.motion.blend as blend_module
    from usd_synth.demo import run_demo

    real = blend_module.blend_motions

    def one_rejected(a, b, weights, **kwargs):
        out = real(a, b, weights, **kwargs)
        out[-1].source["quality"].update(rejected=True, reasons=["foot_skate 0.3 > 0.2"])
        return out

    monkeypatch.setattr(blend_module, "blend_motions", one_rejected)
    report = run_demo(tmp_path / "demo", fractal=False)
    blends = [row for row in report["files"] if row["kind"] == "blend"]
    assert [row["weight"] for row in blends] == [0.25, 0.5]
    assert report["rejected_blends"] == [
        {"kind": "blend", "label": "walk", "weight": 0.75, "reasons": ["foot_skate 0.3 > 0.2"]}
    ]
    assert not (tmp_path / "demo" / "blends" / "walk_walk_w0.75.usd").exists()
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert summary["rejected_blends"][0]["weight"] == 0.75
