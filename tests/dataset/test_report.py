"""report.html: self-contained, well-formed, escaped, deterministic, written atomically."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from usd_synth.dataset.report import REPORT_NAME, downscale, histogram_counts, report_html, write_report

VOID = {"meta", "img", "br", "hr", "input", "link"}


class _Checker(HTMLParser):
    """Collects tags, checks that every non-void element is closed in order, and gathers attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.seen: list[str] = []
        self.imgs: list[dict] = []
        self.hists: list[dict] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.seen.append(tag)
        if tag == "img":
            self.imgs.append(a)
        if tag == "svg" and "hist" in (a.get("class") or ""):
            self.hists.append({"field": a.get("data-field"), "counts": []})
        if tag == "rect" and a.get("class") == "bin":
            self.hists[-1]["counts"].append(int(a["data-count"]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.seen.append(tag)
        if tag == "img":
            self.imgs.append(dict(attrs))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Checker:
    p = _Checker()
    p.feed(text)
    p.close()
    assert not p.errors, p.errors
    assert not p.stack, p.stack
    return p


def _write_png(path: Path, w: int, h: int, value: int = 100) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.full((h, w, 3), value, np.uint8)
    arr[:, : w // 2, 0] = 255
    iio.imwrite(path, arr)


def _row(i: int, cls: str, split: str = "train", mix: str = "real-mix", **kw) -> dict:
    row = {
        "id": f"{cls}-job{i}-c0",
        "job": f"job{i}",
        "class": cls,
        "split": split,
        "mix": mix,
        "weight": 0.25 + 0.05 * i if mix != "single" else None,
        "sources": [f"builtin:{cls}:0"],
        "seed": i,
        "camera": "/World/Cameras/Cam0",
        "variation": {"tempo": 1.0 + 0.01 * i, "amplitude": 0.9, "noise_deg": 0.0, "mirrored": False},
        "frames": 48,
        "fps": 30.0,
        "resolution": [320, 240],
        "quality": {
            "foot_skate": 0.01 * i,
            "ground_penetration": 0.0,
            "floating": 0.0,
            "jerk": 300.0 + i,
            "joint_limit_violations": 0.0,
            "rejected": False,
        },
        "visibility": 0.9,
        "files": {f"videos/{split}/{cls}/{cls}-job{i}-c0.mp4": "0" * 64},
    }
    row.update(kw)
    return row


def _summary(classes_counts: dict[str, tuple[int, int]], failed=None) -> dict:
    real = {c: r for c, (r, s) in classes_counts.items()}
    synth = {c: s for c, (r, s) in classes_counts.items()}
    return {
        "config": "tiny.yaml",
        "fingerprint": "abcdef0123456789" * 4,
        "seed": 0,
        "counts": {"real": real, "synthetic": synth, "total": {c: real[c] + synth[c] for c in real}},
        "splits": {"train": {c: 3 for c in real}, "val": {c: 1 for c in real}, "test": {c: 0 for c in real}},
        "made": sum(real.values()) + sum(synth.values()),
        "failed": failed or [],
        "skipped": 2,
        "seconds": 81.25,
    }


@pytest.fixture
def dataset(tmp_path):
    rows = [_row(i, "walk") for i in range(4)] + [_row(10 + i, "wave", mix="synthetic-mix") for i in range(3)]
    rows.append(_row(20, "wave", mix="single", quality={}, weight=None))
    # The first walk row has no sheet; the second walk row and the second wave row do.
    for r in (rows[1], rows[5]):
        sheet = f"sheets/{r['split']}/{r['class']}/{r['id']}.png"
        r["files"][sheet] = "0" * 64
        _write_png(tmp_path / sheet, 64, 32)
    # A later walk row has a sheet too (a different size): only the first one is shown.
    later = rows[3]
    later["files"]["sheets/train/walk/later.png"] = "0" * 64
    _write_png(tmp_path / "sheets/train/walk/later.png", 48, 16)
    summary = _summary(
        {"walk": (1234, 0), "wave": (57, 1177)},
        failed=[{"job": "deadbeef", "class": "wave", "error": 'render <failed> & "quoted"'}],
    )
    return tmp_path, rows, summary


def test_writes_parseable_file(dataset):
    out, rows, summary = dataset
    path = write_report(out, rows, summary)
    assert path == out / REPORT_NAME
    text = path.read_text(encoding="utf-8")
    assert text == report_html(out, rows, summary)
    p = _parse(text)
    for tag in ("html", "head", "body", "main", "table", "svg"):
        assert tag in p.seen
    assert text.startswith("<!DOCTYPE html>")
    # Self-contained: no external resources or scripts.
    assert "<script" not in text
    assert not re.search(r'(src|href)="(?!data:)', text)
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_contains_classes_counts_and_summary(dataset):
    out, rows, summary = dataset
    text = report_html(out, rows, summary)
    for name in ("walk", "wave", "tiny.yaml", "abcdef012345", "81.2 s", "1 failed", "2 skipped"):
        assert name in text
    # The class table: real, synthetic, total per class.
    assert re.search(r"<td>walk</td><td>1234</td><td>0</td><td>1234</td>", text)
    assert re.search(r"<td>wave</td><td>57</td><td>1177</td><td>1234</td>", text)
    # Splits and mixes tables.
    assert re.search(r"<td>walk</td><td>3</td><td>1</td><td>0</td><td>4</td>", text)
    assert re.search(r"<td>wave</td><td>0</td><td>3</td><td>1</td>", text)  # real-mix, synthetic-mix, single
    # The balance chart holds the before and after counts.
    chart = text.split('class="balance"')[1].split("</svg>")[0]
    assert 'data-count="57"' in chart and 'data-count="1234"' in chart


def test_one_image_per_class_from_first_row_with_sheet(dataset):
    out, rows, summary = dataset
    p = _parse(report_html(out, rows, summary))
    assert [img["data-class"] for img in p.imgs] == ["walk", "wave"]
    for img in p.imgs:
        assert img["src"].startswith("data:image/png;base64,")
        arr = iio.imread(base64.b64decode(img["src"].split(",", 1)[1]), extension=".png")
        assert arr.shape[:2] == (32, 64)
    text = report_html(out, rows, summary)
    assert rows[1]["id"] in text and "later.png" not in text


def test_large_sheet_is_downscaled(tmp_path):
    row = _row(0, "walk")
    row["files"]["sheets/train/walk/big.png"] = "0" * 64
    _write_png(tmp_path / "sheets/train/walk/big.png", 1500, 90)
    p = _parse(report_html(tmp_path, [row], _summary({"walk": (1, 0)})))
    (img,) = p.imgs
    arr = iio.imread(base64.b64decode(img["src"].split(",", 1)[1]), extension=".png")
    assert arr.shape[1] <= 640 and arr.shape[1] == int(img["width"])
    assert downscale(np.zeros((5, 2000, 3), np.uint8)).shape[1] <= 640
    assert downscale(np.zeros((2, 2000, 3), np.uint8)).shape[1] <= 640  # shorter than a block: strided


def test_no_sheets_no_images(tmp_path):
    rows = [_row(0, "walk")]
    text = report_html(tmp_path, rows, _summary({"walk": (1, 0)}))
    assert _parse(text).imgs == []
    assert "No contact sheets" in text


def test_missing_sheet_file_is_reported_not_raised(tmp_path):
    row = _row(0, "walk")
    row["files"]["sheets/train/walk/missing.png"] = "0" * 64
    text = report_html(tmp_path, [row], _summary({"walk": (1, 0)}))
    assert _parse(text).imgs == []
    assert "Could not read the sheet" in text


def test_escapes_user_strings(tmp_path):
    cls = "<b>x</b>"
    row = _row(0, cls)
    row["id"] = "<i>id</i>"
    summary = _summary(
        {cls: (1, 0)}, failed=[{"job": "<j>", "class": cls, "error": "<script>bad()</script>"}]
    )
    summary["config"] = "<c>.yaml"
    text = report_html(tmp_path, [row], summary)
    _parse(text)
    for raw in ("<b>", "<i>id", "<j>", "<script>", "<c>"):
        assert raw not in text
    assert "&lt;b&gt;x&lt;/b&gt;" in text
    assert "&lt;script&gt;bad()&lt;/script&gt;" in text


def test_failures_table(dataset):
    out, rows, summary = dataset
    text = report_html(out, rows, summary)
    assert 'id="failures"' in text and "deadbeef" in text
    assert "render &lt;failed&gt; &amp; &quot;quoted&quot;" in text
    summary["failed"] = []
    assert 'id="failures"' not in report_html(out, rows, summary)


def test_missing_quality_and_fields(tmp_path):
    rows = [
        {"id": "a", "class": "walk", "quality": {}, "variation": None},
        {"id": "b", "class": "walk", "quality": None},
        {"class": None},
        {"id": "c", "class": "jump", "quality": {"jerk": float("nan"), "rejected": True}, "weight": None},
    ]
    text = report_html(tmp_path, rows, {})
    p = _parse(text)
    assert "walk" in text and "jump" in text
    assert p.hists == []
    assert "No numeric metrics" in text
    assert "1 clip marked rejected" in text


def test_histogram_bin_counts_sum_to_values(dataset):
    out, rows, summary = dataset
    p = _parse(report_html(out, rows, summary))
    fields = {h["field"]: h["counts"] for h in p.hists}
    # One histogram per numeric quality field (not the bool "rejected"), plus variation and weight.
    for name in ("foot_skate", "ground_penetration", "floating", "jerk", "joint_limit_violations"):
        assert sum(fields[f"quality.{name}"]) == 7  # the single-source clip has no quality
    assert "quality.rejected" not in fields
    for name in ("tempo", "amplitude", "noise_deg"):
        assert sum(fields[f"variation.{name}"]) == len(rows)
    assert sum(fields["blend weight"]) == 7
    assert len(fields["quality.jerk"]) > 1
    assert len(fields["variation.amplitude"]) == 1  # constant values: one bin


@pytest.mark.parametrize(
    "values", [[1.0], [0.0, 0.0, 0.0], [0.1, 0.2, 0.3, 5.0], list(np.linspace(0, 1, 101))]
)
def test_histogram_counts(values):
    counts, edges = histogram_counts(values)
    assert counts.sum() == len(values)
    assert len(edges) == len(counts) + 1
    assert len(counts) <= 10


def test_deterministic(dataset):
    out, rows, summary = dataset
    a = report_html(out, rows, summary)
    b = report_html(out, [dict(r) for r in rows], dict(summary))
    assert a == b
    assert write_report(out, rows, summary).read_text(encoding="utf-8") == a


def test_atomic_write_leaves_no_temp_files(dataset, monkeypatch):
    out, rows, summary = dataset
    before = set(out.iterdir())
    write_report(out, rows, summary)
    assert set(out.iterdir()) == before | {out / REPORT_NAME}
    # A failure while writing leaves the old report untouched and no temporary paths.
    old = (out / REPORT_NAME).read_text(encoding="utf-8")

    def boom(self, *a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", boom)
    with pytest.raises(OSError):
        write_report(out, rows, summary)
    monkeypatch.undo()
    assert set(out.iterdir()) == before | {out / REPORT_NAME}
    assert (out / REPORT_NAME).read_text(encoding="utf-8") == old
