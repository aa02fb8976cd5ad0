"""Summary + plots -> reports/index.html: one self-contained page (inline CSS, plots as base64
PNG, no script, no network)."""
from __future__ import annotations

import base64
from html import escape
from typing import Any

from .markdown import (
    EXPORT_LEGEND,
    GENERATED,
    IMPORT_LEGEND,
    SYMBOLS,
    case_list,
    fmt_err,
    fmt_value,
    run_line,
    zoo_cells,
    zoo_header,
)
from .summary import EXPANDED, FAIL, NONE, PARTIAL, PASS, UNDEFINED, UNTESTED

CELL_CLASS = {PASS: "c-pass", UNTESTED: "c-untested", EXPANDED: "c-expanded",
              PARTIAL: "c-partial", FAIL: "c-fail", NONE: "c-none", UNDEFINED: "c-undef"}

CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1b1b;
     background:#fafafa}
header{background:#263238;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:22px} header p{margin:4px 0 0;color:#cfd8dc;font-size:13px}
nav{position:sticky;top:0;background:#eceff1;padding:6px 24px;border-bottom:1px solid #cfd8dc;
    z-index:2} nav a{margin-right:16px;color:#1e4f7a;text-decoration:none;font-weight:600}
main{padding:0 24px 40px} section{margin-top:22px}
h2{font-size:18px;border-bottom:2px solid #263238;padding-bottom:3px} h3{font-size:15px}
table{border-collapse:collapse;background:#fff;font-size:12px}
th,td{border:1px solid #dde2e5;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef1f3;position:sticky;top:0;z-index:1}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{max-height:430px;overflow:auto;border:1px solid #cfd8dc;display:inline-block;
        max-width:100%}
.matrix td.m{width:16px;text-align:center;padding:1px;font-size:11px}
.c-pass{background:#c8e6c9}.c-untested{background:#e8f5e9;color:#558b2f}
.c-expanded{background:#dcedc8}.c-partial{background:#ffe082}.c-fail{background:#ef9a9a}
.c-none{background:#eceff1;color:#90a4ae}.c-undef{background:#fff}
.legend span{display:inline-block;padding:1px 6px;margin:2px 6px 2px 0;border:1px solid #ccc}
.plots{display:grid;grid-template-columns:1fr 1fr;gap:14px}
.plots figure{margin:0;background:#fff;border:1px solid #dde2e5;padding:8px}
.plots img{max-width:100%} figcaption{font-weight:600;margin-bottom:4px}
.ok{color:#2e7d32;font-weight:600}.bad{color:#c62828;font-weight:600}.muted{color:#78909c}
.notes{max-width:520px;font-size:11px}
"""

SECTIONS = (("summary", "Summary"), ("plots", "Plots"), ("import", "Import matrix"),
            ("export", "Export matrix"), ("accuracy", "Accuracy"), ("zoo", "Model zoo"),
            ("history", "History"))


def _table(header: list[str], rows: list[list[Any]], *, numeric: set[int] = frozenset(),
           scroll: bool = True, classes: str = "") -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if isinstance(cell, tuple):  # pre-rendered (html, td attributes)
                cells.append(f"<td {cell[1]}>{cell[0]}</td>")
            else:
                cls = ' class="num"' if i in numeric else ""
                cells.append(f"<td{cls}>{escape(str(cell))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    html = (f'<table class="{classes}"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(body) + "</tbody></table>")
    return f'<div class="scroll">{html}</div>' if scroll else html


def _legend(legend: dict[str, str]) -> str:
    return '<p class="legend">' + "".join(
        f'<span class="{CELL_CLASS[k]}">{escape(SYMBOLS[k]) if k != UNDEFINED else "&nbsp;"}'
        f"</span>{escape(v)} " for k, v in legend.items()) + "</p>"


def _value_html(value: dict[str, Any]) -> str:
    text = escape(fmt_value(value))
    if "text" in value:
        return f'<span class="muted">{text}</span>'
    ok = value["total"] and value["passed"] == value["total"]
    return f'<span class="{"ok" if ok else ""}">{text}</span>'


def _summary(summary: dict[str, Any]) -> str:
    rows = [[escape(h["label"]), *[(_value_html(h[c]), 'class="num"') for c in ("cpu", "gpu")]]
            for h in summary["headline"]]
    rows = [[(r[0], ""), r[1], r[2]] for r in rows]
    suites = [[f"{s['title']} ({s['suite']})", s["ctx"], s["total"], s["passed"],
               s["limitations"], s["failures"], s["expected_failures"],
               s["unexpected_failures"]] for s in summary["suites"]]
    return (f"<p>{escape(run_line(summary))}</p>"
            + _table(["", "CPU", "GPU"], rows, scroll=False)
            + "<h3>Suites</h3><p>limitations = unsupported (known gaps); failures = wrong "
              "result, error, crash or timeout.</p>"
            + _table(["suite", "ctx", "cases", "passed", "limitations", "failures",
                      "expected failures", "unexpected failures"], suites,
                     numeric={2, 3, 4, 5, 6, 7}, scroll=False))


def _plots(plots: dict[str, tuple[str, bytes]]) -> str:
    figures = []
    for key, (title, png) in plots.items():
        data = base64.b64encode(png).decode("ascii")
        figures.append(f'<figure id="plot-{key}"><figcaption>{escape(title)}</figcaption>'
                       f'<img alt="{escape(title)}" src="data:image/png;base64,{data}"></figure>')
    return '<div class="plots">' + "".join(figures) + "</div>"


def _matrix(matrix: dict[str, Any], tooltip: Any) -> str:
    header = ["op", "family", *[str(o) for o in matrix["opsets"]], "cases", "notes"]
    rows = []
    for row in matrix["rows"]:
        cells = [(f"<code>{escape(row['op'])}</code>", ""), row["family"]]
        for opset, code in zip(matrix["opsets"], row["cells"], strict=True):
            title = escape(tooltip(row, opset, code), quote=True) if code != UNDEFINED else ""
            attrs = f'class="m {CELL_CLASS[code]}"' + (f' title="{title}"' if title else "")
            cells.append((escape(SYMBOLS[code]), attrs))
        cells.append((f"{row['passed']}/{row['total']}" if row["total"] else "—",
                      'class="num"'))
        cells.append((escape(" · ".join(row["notes"])), 'class="notes"'))
        rows.append(cells)
    return _table(header, rows, classes="matrix")


def _import_tooltip(row: dict[str, Any], opset: int, code: str) -> str:
    group = next((g for g in row["groups"] if g["first_opset"] <= opset <= g["last_opset"]),
                 None)
    # Kept short: there are thousands of cells; the case names are in the details list.
    if group is None:
        return ""
    passed = sum(c[1] == "pass" for c in group["cases"])
    return f"{row['op']} v{group['since']}: {passed}/{len(group['cases'])} cases pass"


def _import(summary: dict[str, Any]) -> str:
    matrix = summary["import_matrix"]
    details = []
    for row in matrix["rows"]:
        groups = [g for g in row["groups"] if g["cases"]]
        if groups:
            parts = "; ".join(f"v{g['since']}: {case_list(g['cases'])}" for g in groups)
            details.append(f"<li><code>{escape(row['op'])}</code>: {escape(parts)}</li>")
    other = ", ".join(f"{op} ({n})" for op, n in matrix["other_domains"].items())
    return ("<p>Default-domain ONNX ops (<code>onnx.defs</code>) against "
            "<code>IMPORT_REGISTRY</code>, with the CPU node cases behind each schema version "
            "(hover a cell for its cases).</p>" + _legend(IMPORT_LEGEND) + _matrix(
                matrix, _import_tooltip)
            + (f"<p>Node cases of ops outside the default domain: {escape(other)}.</p>"
               if other else "")
            + "<details><summary>Node cases behind each cell</summary><ul>"
            + "".join(details) + "</ul></details>")


def _export(summary: dict[str, Any]) -> str:
    def tooltip(row: dict[str, Any], opset: int, code: str) -> str:
        return f"{row['op']} @{opset}: {code}"
    return ("<p>Every op of <code>EXPORT_REGISTRY</code> against the single-op export suite "
            "(CPU): exported alone, run by onnxruntime, compared with MXNet's forward.</p>"
            + _legend(EXPORT_LEGEND) + _matrix(summary["export_matrix"], tooltip))


def _accuracy(summary: dict[str, Any]) -> str:
    out = []
    titles = {"export": "Export (onnxruntime vs MXNet)",
              "import": "Import (node suite, passing cases: MXNet vs reference)"}
    for direction, by_ctx in summary["accuracy"].items():
        if not by_ctx:
            continue
        ctxs = list(by_ctx)
        header = ["op", "family", "cases"]
        for ctx in ctxs:
            header += [f"worst abs ({ctx.upper()})", f"worst rel ({ctx.upper()})"]
        header += ["tolerance", "worst case"]
        others = [{r["op"]: r for r in by_ctx[c]} for c in ctxs[1:]]
        rows = []
        for row in by_ctx[ctxs[0]]:
            line = [row["op"], row["family"], row["cases"], fmt_err(row["worst_abs"]),
                    fmt_err(row["worst_rel"])]
            for other in others:
                o = other.get(row["op"], {})
                line += [fmt_err(o.get("worst_abs")), fmt_err(o.get("worst_rel"))]
            rows.append(line + [row["tolerance"] or "—", row["worst_abs_case"] or "—"])
        out.append(f"<h3>{escape(titles[direction])}</h3>"
                   + _table(header, rows, numeric=set(range(2, 3 + 2 * len(ctxs)))))
    return "".join(out) or "<p>No results.</p>"


def _zoo(summary: dict[str, Any]) -> str:
    out = ["<p>One row per model and opset: limitation = unsupported, failure = wrong result "
           "or error; tolerance ratio &lt; 1 passes.</p>"]
    for zoo in summary["zoo"]:
        rows = []
        for r in zoo["rows"]:
            row = zoo_cells(zoo, r)
            cls = "ok" if r["outcome"] == "pass" else "bad"
            title = escape(r["message"], quote=True)
            row[0] = (f'<span class="{cls}" title="{title}">{escape(str(row[0]))}</span>', "")
            rows.append(row)
        out.append(f"<h3>{escape(zoo['title'])} ({escape(zoo['suite'])}, "
                   f"{zoo['ctx'].upper()})</h3>"
                   + _table(zoo_header(zoo), rows, numeric={4, 8, 9, 10, 11, 12, 14, 15, 16}))
    return "".join(out) or "<p>No model-zoo results.</p>"


def _history(summary: dict[str, Any]) -> str:
    history = summary["history"]
    if not history:
        return "<p>No full run recorded yet.</p>"
    keys = sorted({k for h in history for k in h["suites"]})
    rows = [[h["date"], *[f"{h['suites'][k]['passed']}/{h['suites'][k]['total']}"
                          if k in h["suites"] else "—" for k in keys]] for h in history[-15:]]
    return _table(["date", *keys], rows, numeric=set(range(1, len(keys) + 1)))


def render_html(summary: dict[str, Any], plots: dict[str, tuple[str, bytes]]) -> str:
    bodies = {"summary": _summary(summary), "plots": _plots(plots),
              "import": _import(summary), "export": _export(summary),
              "accuracy": _accuracy(summary), "zoo": _zoo(summary),
              "history": _history(summary)}
    headings = {"summary": "Summary", "plots": "Plots",
                "import": "Import: ONNX op × opset (ONNX → MXNet)",
                "export": "Export: MXNet op × opset (MXNet → ONNX)",
                "accuracy": "Accuracy per op", "zoo": "Model zoo", "history": "History"}
    nav = "".join(f'<a href="#{key}">{escape(label)}</a>' for key, label in SECTIONS)
    sections = "".join(f'<section id="{key}"><h2>{escape(headings[key])}</h2>{bodies[key]}'
                       "</section>" for key, _ in SECTIONS)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>mxnet-serde conformance report</title>"
            f"<style>{CSS}</style></head><body><header><h1>mxnet-serde conformance report</h1>"
            f"<p>{escape(run_line(summary))} {escape(GENERATED.replace('`', ''))}</p></header>"
            f"<nav>{nav}</nav><main>{sections}</main></body></html>\n")
