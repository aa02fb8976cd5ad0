"""The report's plots, drawn with matplotlib's Agg backend and returned as PNG bytes (the HTML
page embeds them as base64, so it needs no network and no side files)."""
from __future__ import annotations

import io
from typing import Any

EXACT_FLOOR = 1e-12  # exact results (error 0) are drawn here on the log axis

_STYLE = {"figure.dpi": 100, "font.size": 9, "axes.spines.top": False,
          "axes.spines.right": False, "svg.hashsalt": "mxnet-serde"}


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    # No Software/date metadata, so the same summary gives the same bytes.
    fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    import matplotlib.pyplot as plt
    plt.close(fig)
    return buffer.getvalue()


def _pyplot() -> Any:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update(_STYLE)
    return plt


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def pass_rate_by_family(summary: dict[str, Any]) -> bytes:
    plt = _pyplot()
    families = summary["families"]
    heights = [max(2.0, 0.28 * len(families[d]) + 0.8) for d in ("export", "import")]
    fig, axes = plt.subplots(1, 2, figsize=(11, max(heights)))
    for ax, direction, title in zip(axes, ("export", "import"),
                                    ("Export: single-op cases", "Import: ONNX node cases"),
                                    strict=True):
        stats = families[direction]
        if not stats:
            _empty(ax, "no results")
            ax.set_title(title)
            continue
        names = sorted(stats, key=lambda f: stats[f]["passed"] / max(1, stats[f]["total"]))
        rates = [100 * stats[f]["passed"] / max(1, stats[f]["total"]) for f in names]
        bars = ax.barh(names, rates, color=["#2e7d32" if r == 100 else "#f9a825" if r >= 80
                                            else "#c62828" for r in rates])
        for bar, name in zip(bars, names, strict=True):
            ax.text(min(bar.get_width() + 1, 101), bar.get_y() + bar.get_height() / 2,
                    f"{stats[name]['passed']}/{stats[name]['total']}", va="center", fontsize=8)
        ax.set_xlim(0, 118)
        ax.set_xlabel("cases passed (%)")
        ax.set_title(title)
    fig.suptitle("Pass rate by op family (CPU)")
    fig.tight_layout()
    return _png(fig)


def error_by_family(summary: dict[str, Any]) -> bytes:
    plt = _pyplot()
    families = summary["families"]
    fig, axes = plt.subplots(2, 1, figsize=(11, 7))
    for ax, direction, title in zip(axes, ("export", "import"),
                                    ("Export: |onnxruntime - MXNet|, worst element per case",
                                     "Import: |MXNet - reference|, worst element per case"),
                                    strict=True):
        stats = {f: s for f, s in families[direction].items() if s["errors"]}
        ax.set_title(title)
        if not stats:
            _empty(ax, "no errors recorded")
            continue
        names = sorted(stats)
        data = [[max(e, EXACT_FLOOR) for e in stats[f]["errors"]] for f in names]
        ax.boxplot(data, labels=names, showfliers=True, whis=(0, 100))
        ax.set_yscale("log")
        ax.set_ylabel("max abs error (log)")
        ax.axhline(EXACT_FLOOR, color="#999", lw=0.6, ls=":")
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle(f"Error distribution per op family (CPU; exact results drawn at "
                 f"{EXACT_FLOOR:g})")
    fig.tight_layout()
    return _png(fig)


def export_time_vs_size(summary: dict[str, Any]) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    rows = [r for z in summary["zoo"] if z["direction"] in ("export", "roundtrip")
            for r in z["rows"] if r["export_seconds"] is not None and r["params"]]
    if not rows:
        _empty(ax, "no model-zoo export results")
    else:
        cmap = plt.get_cmap("tab10")
        for i, family in enumerate(sorted({r["family"] for r in rows})):
            mine = [r for r in rows if r["family"] == family]
            ax.scatter([r["params"] / 1e6 for r in mine], [r["export_seconds"] for r in mine],
                       label=family, color=cmap(i % 10), s=22, alpha=0.85)
        ax.set_xscale("log")
        ax.set_xlabel("model size (million parameters, log)")
        ax.set_ylabel("export time (s)")
        ax.legend(fontsize=7, frameon=False, ncol=2)
    ax.set_title("Export time against model size (model zoo)")
    fig.tight_layout()
    return _png(fig)


def pass_trend(summary: dict[str, Any]) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    history = summary["history"]
    if not history:
        _empty(ax, "no run recorded in reports/history.jsonl")
    else:
        keys = sorted({k for h in history for k in h["suites"]})
        xs = list(range(len(history)))
        for key in keys:
            points = [(x, h["suites"][key]["passed"]) for x, h in zip(xs, history, strict=True)
                      if key in h["suites"]]
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=key)
        step = max(1, len(history) // 8)
        ax.set_xticks(xs[::step], [h["date"][:10] for h in history][::step], rotation=30)
        ax.set_yscale("log")
        ax.set_ylabel("cases passed (log)")
        ax.legend(fontsize=7, frameon=False)
    ax.set_title("Passed cases per suite over full runs")
    fig.tight_layout()
    return _png(fig)


PLOTS = {
    "pass_rate_by_family": ("Pass rate by op family", pass_rate_by_family),
    "error_by_family": ("Error distribution per op family", error_by_family),
    "export_time_vs_size": ("Export time against model size", export_time_vs_size),
    "pass_trend": ("Trend of pass counts", pass_trend),
}


def render_plots(summary: dict[str, Any]) -> dict[str, tuple[str, bytes]]:
    """{key: (title, png bytes)} for every plot."""
    return {key: (title, draw(summary)) for key, (title, draw) in PLOTS.items()}
