"""The optimize run's picture and page: ``search.png`` (score against weight, evaluations numbered, the
real-only line, the recommendation) and a short self-contained ``report.html``."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any


def write_plot(path: Path, history: list[dict], best: dict[str, Any]) -> Path:
    """Score against the weight (or against the evaluation number when no weight is searched)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [h for h in history if h.get("status") == "ok"]
    failed = [h for h in history if h.get("status") != "ok"]
    by_weight = all(h.get("weight") is not None for h in history) and bool(history)
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    xs = [h["weight"] if by_weight else h["evaluation"] for h in ok]
    ys = [h["score"] for h in ok]
    if ok:
        ax.scatter(xs, ys, color="tab:blue", zorder=3, label="evaluations")
        errs = [h.get("score_std") for h in ok]
        if all(e is not None for e in errs):
            ax.errorbar(xs, ys, yerr=errs, fmt="none", ecolor="tab:blue", alpha=0.4, zorder=2)
        for h, x, y in zip(ok, xs, ys, strict=True):
            ax.annotate(str(h["evaluation"]), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    for h in failed:
        x = h["weight"] if by_weight else h["evaluation"]
        ax.axvline(x, color="tab:red", alpha=0.3, lw=1)
    if best.get("real_only_score") is not None:
        ax.axhline(best["real_only_score"], color="gray", ls="--", label="real only")
    if by_weight and best.get("weight") is not None:
        ax.axvline(best["weight"], color="tab:green", ls=":", label=f"recommended w = {best['weight']:.3f}")
    ax.set_xlabel("blend weight w" if by_weight else "evaluation")
    if by_weight:
        ax.set_xlim(-0.02, 1.02)
    ax.set_ylabel("score")
    others = sorted({k for h in history for k in h["params"] if k != "weight"} if by_weight else set())
    title = f"{len(history)} evaluations ({len(failed)} failed)"
    if others:  # the other searched parameters vary along this axis too
        title += f"; also searched: {', '.join(others)} (see history.json)"
    ax.set_title(title, fontsize=10 if others else None)
    ax.grid(alpha=0.3)
    if ok or best.get("real_only_score") is not None:
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path


def write_report(run_dir: Path, history: list[dict], best: dict[str, Any], identity: dict[str, Any]) -> Path:
    """A short page: the recommendation, the plot, the history table."""
    from usd_synth.fileio import atomic_path

    png = run_dir / "search.png"
    img = base64.b64encode(png.read_bytes()).decode() if png.is_file() else ""
    rows = []
    for h in history:
        params = ", ".join(f"{k} = {v:.4f}" for k, v in h["params"].items())
        score = f"{h['score']:.4f}" if h.get("status") == "ok" else "failed"
        note = html.escape(str(h.get("error", ""))[:200])
        if h.get("stderr_tail"):
            note += f"<pre>{html.escape(h['stderr_tail'][-600:])}</pre>"
        rows.append(f"<tr><td>{h['evaluation']}</td><td>{html.escape(params)}</td><td>{score}</td>"
                    f"<td>{h.get('seconds', '')}</td><td>{note}</td></tr>")  # fmt: skip
    text = f"""<!doctype html><html><head><meta charset="utf-8"><title>usd-synth optimize</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto}}td,th{{padding:2px 8px;text-align:left;
vertical-align:top}}pre{{font-size:11px;white-space:pre-wrap}}</style></head><body>
<h1>usd-synth optimize</h1>
<p>Evaluator <code>{html.escape(str(identity.get("evaluator")))}</code>, search
<code>{html.escape(str(identity.get("search")))}</code>, parameters
<code>{html.escape(", ".join(identity.get("space", [])))}</code>.</p>
<h2>Recommendation</h2><pre>{html.escape(json.dumps(best, indent=1))}</pre>
{f'<img alt="score against weight" src="data:image/png;base64,{img}">' if img else ""}
<h2>Evaluations</h2><table><tr><th>#</th><th>parameters</th><th>score</th><th>s</th><th>notes</th></tr>
{"".join(rows)}</table></body></html>
"""
    with atomic_path(run_dir / "report.html") as tmp:
        tmp.write_text(text)
    return run_dir / "report.html"
