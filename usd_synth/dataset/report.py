"""``report.html``: one self-contained page that describes a generated dataset.

The page opens from disk with no network and no scripts: inline CSS, charts as inline SVG drawn here,
contact sheets embedded as base64 PNG data URIs. Every string that comes from a config, a manifest or an
error message is HTML-escaped. The text depends only on the inputs (and the sheet images they name), so
the same dataset always gives the same page.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

from usd_synth.fileio import atomic_path

REPORT_NAME = "report.html"
#: Widest contact sheet embedded in the page (pixels); wider sheets are shrunk by an integer factor.
MAX_SHEET_WIDTH = 640
#: Bins of every histogram (fewer when there are fewer distinct values).
HIST_BINS = 10
SPLIT_ORDER = ("train", "val", "test")
MIX_ORDER = ("real-mix", "synthetic-mix", "single")
VARIATION_FIELDS = ("tempo", "amplitude", "noise_deg")

_CSS = """
body { font-family: system-ui, "Segoe UI", sans-serif; margin: 0; color: #222; background: #fafafa; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5em; }
h1 { font-size: 1.6em; margin-bottom: 0.3em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin: 1em 0 0.4em; }
table { border-collapse: collapse; margin: 0.6em 0; background: #fff; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 0.9em; }
thead th { background: #eee; }
tfoot td { font-weight: bold; background: #f4f4f4; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; background: #fff; border: 1px solid #ddd; padding: 0.5em; }
figcaption { font-size: 0.9em; color: #555; margin-top: 0.3em; }
figure img { display: block; max-width: 100%; height: auto; image-rendering: pixelated; }
svg text { font-family: system-ui, sans-serif; font-size: 10px; fill: #333; }
.note { color: #666; font-size: 0.9em; }
code { font-family: ui-monospace, monospace; }
"""

_BEFORE_COLOR = "#8da0cb"
_AFTER_COLOR = "#fc8d62"
_HIST_COLOR = "#66c2a5"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(x: float) -> str:
    """A short, stable rendering of a number for labels."""
    if x == 0:
        return "0"
    return f"{x:.4g}"


def _num(value: Any) -> float | None:
    """``value`` as a finite float, or None for anything else (bools, strings, None, NaN, inf)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def _class_of(row: Mapping[str, Any]) -> str:
    cls = row.get("class")
    return "(none)" if cls is None else str(cls)


def _ordered(first: Iterable[str], rest: Iterable[str]) -> list[str]:
    """``first`` in its order, then the other names of ``rest`` sorted."""
    head = list(dict.fromkeys(str(x) for x in first))
    return head + sorted({str(x) for x in rest} - set(head))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any) -> int:
    x = _num(value)
    return int(x) if x is not None else 0


# --------------------------------------------------------------------------------------------- tables


def _table(header: Sequence[str], body: Sequence[Sequence[Any]], foot: Sequence[Any] | None = None) -> str:
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in header) + "</tr></thead>"]
    out.append("<tbody>")
    for row in body:
        out.append("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody>")
    if foot is not None:
        out.append("<tfoot><tr>" + "".join(f"<td>{_esc(c)}</td>" for c in foot) + "</tr></tfoot>")
    out.append("</table>")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------- charts


def _bar_chart(classes: Sequence[str], before: Sequence[int], after: Sequence[int]) -> str:
    """Horizontal grouped bars, one pair per class: real clips (before balancing) and total (after)."""
    label_w, bar_w, row_h, top = 140, 300, 26, 24
    width = label_w + bar_w + 50
    height = top + row_h * max(len(classes), 1) + 24
    peak = max([*before, *after, 1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="balance" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="clips per class before and after balancing">',
        f'<rect x="{label_w}" y="4" width="10" height="10" fill="{_BEFORE_COLOR}" />',
        f'<text x="{label_w + 14}" y="13">before (real)</text>',
        f'<rect x="{label_w + 110}" y="4" width="10" height="10" fill="{_AFTER_COLOR}" />',
        f'<text x="{label_w + 124}" y="13">after balancing (total)</text>',
    ]
    for i, (cls, b, a) in enumerate(zip(classes, before, after, strict=True)):
        y = top + i * row_h
        short = cls if len(cls) <= 22 else cls[:21] + "\u2026"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_esc(short)}</text>')
        for j, (v, color) in enumerate(((b, _BEFORE_COLOR), (a, _AFTER_COLOR))):
            w = bar_w * v / peak
            yy = y + j * 10
            parts.append(
                f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="9" fill="{color}" data-count="{v}">'
                f"<title>{_esc(cls)}: {v}</title></rect>"
            )
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{yy + 8}">{v}</text>')
    axis_y = top + row_h * max(len(classes), 1)
    parts.append(f'<line x1="{label_w}" y1="{top - 2}" x2="{label_w}" y2="{axis_y}" stroke="#333" />')
    parts.append(f'<text x="{label_w + bar_w / 2:.0f}" y="{axis_y + 16}" text-anchor="middle">clips</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def histogram_counts(values: Sequence[float], bins: int = HIST_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Counts and edges of ``values`` (finite numbers); one unit-wide bin when they are all equal."""
    v = np.asarray(values, dtype=np.float64)
    lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        return np.array([v.size]), np.array([lo - 0.5, hi + 0.5])
    n = int(min(bins, max(1, len(np.unique(v)))))
    counts, edges = np.histogram(v, bins=n, range=(lo, hi))
    return counts, edges


def _histogram(name: str, values: Sequence[float], skipped: int) -> str:
    counts, edges = histogram_counts(values)
    left, right, top, bottom = 40, 12, 18, 36
    plot_w, plot_h = 260, 110
    width, height = left + plot_w + right, top + plot_h + bottom
    peak = max(int(counts.max()), 1)
    bw = plot_w / len(counts)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="hist" data-field="{_esc(name)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="histogram of {_esc(name)}">'
    ]
    base = top + plot_h
    for i, c in enumerate(counts):
        c = int(c)
        h = plot_h * c / peak
        x = left + i * bw
        parts.append(
            f'<rect class="bin" x="{x + 1:.1f}" y="{base - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
            f'fill="{_HIST_COLOR}" data-count="{c}" data-lo="{_fmt(float(edges[i]))}" '
            f'data-hi="{_fmt(float(edges[i + 1]))}">'
            f"<title>[{_fmt(float(edges[i]))}, {_fmt(float(edges[i + 1]))}]: {c}</title></rect>"
        )
        if c:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{base - h - 3:.1f}" text-anchor="middle">{c}</text>')
    parts += [
        f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#333" />',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#333" />',
        f'<text x="{left}" y="{base + 12}" text-anchor="start">{_fmt(float(edges[0]))}</text>',
        f'<text x="{left + plot_w}" y="{base + 12}" text-anchor="end">{_fmt(float(edges[-1]))}</text>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{peak}</text>',
        f'<text x="{left - 4}" y="{base}" text-anchor="end">0</text>',
        f'<text x="{left + plot_w / 2:.0f}" y="{base + 28}" text-anchor="middle">{_esc(name)}</text>',
        f'<text x="12" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.0f})">clips</text>',
        "</svg>",
    ]
    caption = f"{_esc(name)}: {len(values)} value{'s' if len(values) != 1 else ''}"
    caption += f", min {_fmt(float(np.min(values)))}, max {_fmt(float(np.max(values)))}"
    if skipped:
        caption += f" ({skipped} missing or not finite)"
    return "<figure>\n" + "\n".join(parts) + f"\n<figcaption>{caption}</figcaption>\n</figure>"


def _metric_values(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[float], int]]:
    """(label, finite values, rows without a usable value) for every numeric field worth a histogram."""
    quality_names: list[str] = []
    for row in rows:
        for key, value in _mapping(row.get("quality")).items():
            if _num(value) is not None and str(key) not in quality_names:
                quality_names.append(str(key))
    out = []
    for name in quality_names:
        vals = [_num(_mapping(r.get("quality")).get(name)) for r in rows]
        out.append((f"quality.{name}", vals))
    for name in VARIATION_FIELDS:
        out.append((f"variation.{name}", [_num(_mapping(r.get("variation")).get(name)) for r in rows]))
    out.append(("visibility", [_num(r.get("visibility")) for r in rows]))
    out.append(("blend weight", [_num(r.get("weight")) for r in rows]))
    result = []
    for label, vals in out:
        good = [v for v in vals if v is not None]
        if good:
            result.append((label, good, len(vals) - len(good)))
    return result


# --------------------------------------------------------------------------------------------- images


def _to_uint8_rgb(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"unexpected image shape {arr.shape}")
    if arr.dtype == np.uint16:
        arr = (arr.astype(np.uint32) // 257).astype(np.uint8)
    elif arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype != np.uint8:
        a = arr.astype(np.float64)
        if a.size and np.nanmax(a) <= 1.0:
            a = a * 255.0
        arr = np.clip(np.nan_to_num(a), 0, 255).round().astype(np.uint8)
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 2:  # grey + alpha
        arr = np.concatenate([np.repeat(arr[:, :, :1], 3, axis=2), arr[:, :, 1:]], axis=2)
    return arr[:, :, :4]


def downscale(arr: np.ndarray, max_width: int = MAX_SHEET_WIDTH) -> np.ndarray:
    """Shrink ``arr`` (H, W, C) by the smallest integer factor that makes it at most ``max_width`` wide,
    averaging each factor x factor block (striding when the image is shorter than one block)."""
    h, w = arr.shape[:2]
    if w <= max_width:
        return arr
    f = math.ceil(w / max_width)
    if h < f:
        return np.ascontiguousarray(arr[:, ::f][:, : w // f])
    hh, ww = h // f * f, w // f * f
    blocks = arr[:hh, :ww].astype(np.float64).reshape(hh // f, f, ww // f, f, -1)
    return blocks.mean(axis=(1, 3)).round().clip(0, 255).astype(np.uint8)


def png_data_uri(arr: np.ndarray) -> str:
    data = iio.imwrite("<bytes>", arr, extension=".png")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _sheet_path(row: Mapping[str, Any]) -> str | None:
    for path in _mapping(row.get("files")):
        p = str(path)
        if p.startswith("sheets/") and p.lower().endswith(".png"):
            return p
    return None


def _inside(base: Path, rel: str) -> Path | None:
    """``base / rel`` when it stays inside ``base`` (a manifest never names a file outside the dataset)."""
    path = base / rel
    try:
        path.resolve().relative_to(base.resolve())
    except ValueError:
        return None
    return path


def _contact_sheets(out_dir: Path, classes: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    first: dict[str, tuple[Mapping[str, Any], str]] = {}
    for row in rows:
        cls = _class_of(row)
        if cls in first:
            continue
        sheet = _sheet_path(row)
        if sheet is not None:
            first[cls] = (row, sheet)
    if not first:
        return '<p class="note">No contact sheets in this dataset.</p>'
    parts = []
    for cls in classes:
        if cls not in first:
            continue
        row, rel = first[cls]
        caption = f"{_esc(cls)}: <code>{_esc(row.get('id', ''))}</code> ({_esc(rel)})"
        path = _inside(Path(out_dir), rel)
        try:
            if path is None:
                raise ValueError("path leaves the dataset folder")
            arr = downscale(_to_uint8_rgb(iio.imread(path)))
            h, w = arr.shape[:2]
            img = (
                f'<img src="{png_data_uri(arr)}" width="{w}" height="{h}" '
                f'alt="contact sheet of {_esc(cls)}" data-class="{_esc(cls)}">'
            )
        except (OSError, ValueError) as exc:
            img = f'<p class="note">Could not read the sheet: {_esc(type(exc).__name__)}: {_esc(exc)}</p>'
        parts.append(f"<figure>\n<h3>{_esc(cls)}</h3>\n{img}\n<figcaption>{caption}</figcaption>\n</figure>")
    return '<div class="sheets">\n' + "\n".join(parts) + "\n</div>"


# --------------------------------------------------------------------------------------------- page


def report_html(out_dir: str | Path, rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]) -> str:
    """The text of ``report.html`` for the dataset in ``out_dir`` (pure but for reading contact sheets)."""
    rows = [r for r in rows if isinstance(r, Mapping)]
    summary = _mapping(summary)
    counts = _mapping(summary.get("counts"))
    real, synth, total = (_mapping(counts.get(k)) for k in ("real", "synthetic", "total"))
    splits = _mapping(summary.get("splits"))
    failed = [f for f in summary.get("failed") or [] if isinstance(f, Mapping)]

    row_classes = [_class_of(r) for r in rows]
    split_classes = [c for s in splits.values() for c in _mapping(s)]
    classes = _ordered(
        list(total) + [c for c in real if c not in total] + [c for c in synth if c not in total],
        [*row_classes, *split_classes, *(str(f.get("class")) for f in failed if f.get("class") is not None)],
    )

    # Counts: from the summary; derived from the rows when the summary has none.
    if not counts:
        real = {
            c: sum(1 for r in rows if _class_of(r) == c and r.get("mix") != "synthetic-mix") for c in classes
        }
        synth = {
            c: sum(1 for r in rows if _class_of(r) == c and r.get("mix") == "synthetic-mix") for c in classes
        }
        total = {c: real[c] + synth[c] for c in classes}
    tot = {c: _int(total.get(c)) if c in total else _int(real.get(c)) + _int(synth.get(c)) for c in classes}

    # Splits: from the summary; derived from the rows when it has none.
    if not splits:
        derived: dict[str, dict[str, int]] = {}
        for r in rows:
            s = str(r.get("split") or "(none)")
            derived.setdefault(s, {})
            derived[s][_class_of(r)] = derived[s].get(_class_of(r), 0) + 1
        splits = derived
    split_names = [s for s in SPLIT_ORDER if s in splits] + sorted(
        str(s) for s in splits if s not in SPLIT_ORDER
    )

    made = summary.get("made", len(rows))
    skipped = summary.get("skipped", 0)
    seconds = _num(summary.get("seconds"))
    fingerprint = str(summary.get("fingerprint") or "")
    title = "Dataset report"
    if summary.get("config"):
        title += f": {summary['config']}"

    intro = (
        f"{_esc(made)} clip{'s' if made != 1 else ''} made, {len(failed)} failed, {_esc(skipped)} skipped"
        + (f" in {seconds:.1f} s" if seconds is not None else "")
        + f", {len(classes)} class{'es' if len(classes) != 1 else ''}."
        + (f" Config <code>{_esc(summary['config'])}</code>" if summary.get("config") else " Config unknown")
        + (f", fingerprint <code>{_esc(fingerprint[:12])}</code>" if fingerprint else "")
        + (f", seed {_esc(summary['seed'])}" if summary.get("seed") is not None else "")
        + "."
    )

    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{_esc(title)}</h1>",
        f'<p class="summary">{intro}</p>',
    ]

    # Classes before and after balancing.
    out.append('<section id="classes">\n<h2>Clips per class</h2>')
    body = [[c, _int(real.get(c)), _int(synth.get(c)), tot[c]] for c in classes]
    foot = ["all", sum(b[1] for b in body), sum(b[2] for b in body), sum(b[3] for b in body)]
    out.append(_table(["class", "real", "synthetic (balancing)", "total"], body, foot if body else None))
    out.append(_bar_chart(classes, [_int(real.get(c)) for c in classes], [tot[c] for c in classes]))
    out.append("</section>")

    # Splits.
    out.append('<section id="splits">\n<h2>Clips per class and split</h2>')
    if split_names:
        body = [[c, *(_int(_mapping(splits[s]).get(c)) for s in split_names)] for c in classes]
        body = [[*b, sum(b[1:])] for b in body]
        foot = ["all", *(sum(b[i] for b in body) for i in range(1, len(split_names) + 2))]
        out.append(_table(["class", *split_names, "all"], body, foot if body else None))
    else:
        out.append('<p class="note">No split information.</p>')
    out.append("</section>")

    # Mixes.
    mixes = list(MIX_ORDER) + sorted({str(r.get("mix") or "(none)") for r in rows} - set(MIX_ORDER))
    out.append('<section id="mixes">\n<h2>Mixes per class</h2>')
    body = []
    for c in classes:
        in_cls = [r for r in rows if _class_of(r) == c]
        body.append([c, *(sum(1 for r in in_cls if str(r.get("mix") or "(none)") == m) for m in mixes)])
    foot = ["all", *(sum(b[i] for b in body) for i in range(1, len(mixes) + 1))]
    out.append(_table(["class", *mixes], body, foot if body else None))
    out.append("</section>")

    # Histograms.
    out.append('<section id="quality">\n<h2>Quality and variation</h2>')
    metrics = _metric_values(rows)
    rejected = sum(1 for r in rows if _mapping(r.get("quality")).get("rejected") is True)
    no_quality = sum(1 for r in rows if not _mapping(r.get("quality")))
    out.append(
        f'<p class="note">{rejected} clip{"s" if rejected != 1 else ""} marked rejected; '
        f"{no_quality} without quality metrics.</p>"
    )
    if metrics:
        out.append('<div class="charts">')
        out += [_histogram(name, vals, skipped_n) for name, vals, skipped_n in metrics]
        out.append("</div>")
    else:
        out.append('<p class="note">No numeric metrics in the manifest.</p>')
    out.append("</section>")

    # Contact sheets.
    out.append('<section id="sheets">\n<h2>Contact sheets</h2>')
    out.append(_contact_sheets(Path(out_dir), classes, rows))
    out.append("</section>")

    # Failures.
    if failed:
        out.append('<section id="failures">\n<h2>Failures</h2>')
        out.append("<table>\n<thead><tr><th>job</th><th>class</th><th>error</th></tr></thead>\n<tbody>")
        for f in failed:
            out.append(
                f"<tr><td>{_esc(f.get('job', ''))}</td><td>{_esc(f.get('class', ''))}</td>"
                f'<td class="text">{_esc(f.get("error", ""))}</td></tr>'
            )
        out.append("</tbody>\n</table>\n</section>")

    out += ["</main>", "</body>", "</html>", ""]
    return "\n".join(out)


def write_report(out_dir: str | Path, rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]) -> Path:
    """Write ``out_dir/report.html`` atomically; return its path."""
    path = Path(out_dir) / REPORT_NAME
    text = report_html(out_dir, rows, summary)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
