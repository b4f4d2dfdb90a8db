"""The run over history as one self-contained HTML page: the summary table, then each worst fault period
with an inline SVG chart of the rule's inputs around it (no script, no CDN, inline CSS)."""

from __future__ import annotations

import html
from datetime import datetime

import numpy as np

from bms.fdd._history import Outcome, Period, RunResult

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")
WIDTH, HEIGHT, PAD = 760, 240, 44
MARGIN = 2 * 3600.0  # shown either side of a fault period
MAX_POINTS = 400
CSS = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}.num{text-align:right}
.fault{margin:1.5em 0;padding:0.5em 1em;border-left:4px solid #d62728;background:#fafafa}small{color:#666}"""


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def chart(result: RunResult, outcome: Outcome, period: Period) -> str:
    """An SVG line chart of the rule's inputs from two hours before the period to two hours after it."""
    grid = result.grids.get(outcome.equip)
    inputs = result.inputs.get(outcome.equip, {})
    if grid is None or not len(grid):
        return ""
    lo, hi = np.searchsorted(grid, [period.start - MARGIN, period.end + MARGIN])
    step = max(1, (hi - lo) // MAX_POINTS)
    ts = grid[lo:hi:step]
    lines = {role: inputs[role][lo:hi:step] for role in outcome.roles if role in inputs}
    finite = [v[np.isfinite(v)] for v in lines.values()]
    finite = [f for f in finite if len(f)]
    if not len(ts) or not finite:
        return ""
    ymin, ymax = min(float(f.min()) for f in finite), max(float(f.max()) for f in finite)
    if ymax - ymin < 1e-9:
        ymin, ymax = ymin - 1, ymax + 1
    t0, t1 = float(ts[0]), float(ts[-1]) if ts[-1] > ts[0] else float(ts[0]) + 1

    def x(t: float) -> float:
        return PAD + (t - t0) / (t1 - t0) * (WIDTH - 2 * PAD)

    def y(v: float) -> float:
        return HEIGHT - PAD + (ymin - v) / (ymax - ymin) * (HEIGHT - 2 * PAD)

    left, right = x(max(period.start, t0)), x(min(period.end, t1))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img">',
             f'<rect x="{left:.1f}" y="{PAD}" width="{max(1.0, right - left):.1f}" '
             f'height="{HEIGHT - 2 * PAD}" fill="#d62728" fill-opacity="0.12"/>',
             f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
             f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
             f'<text x="4" y="{PAD + 4}" font-size="11">{ymax:.1f}</text>',
             f'<text x="4" y="{HEIGHT - PAD}" font-size="11">{ymin:.1f}</text>',
             f'<text x="{PAD}" y="{HEIGHT - PAD + 16}" font-size="11">{html.escape(_when(t0))}</text>',
             f'<text x="{WIDTH - PAD}" y="{HEIGHT - PAD + 16}" font-size="11" text-anchor="end">'
             f'{html.escape(_when(t1))}</text>']
    for i, (role, values) in enumerate(lines.items()):
        colour = COLOURS[i % len(COLOURS)]
        segments, current = [], []
        for t, v in zip(ts, values, strict=True):
            if np.isfinite(v):
                current.append(f"{x(float(t)):.1f},{y(float(v)):.1f}")
            elif current:
                segments.append(current)
                current = []
        if current:
            segments.append(current)
        for seg in segments:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{" ".join(seg)}"/>')
        parts.append(f'<text x="{PAD + 8 + i * 90}" y="{PAD - 10}" font-size="12" fill="{colour}">'
                     f'{html.escape(role)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(result: RunResult, title: str = "Fault detection over history", worst: int = 12) -> str:
    rows = []
    for o in result.faulted():
        longest = o.periods[0] if o.periods else None
        rows.append(f"<tr><td>{html.escape(o.equip)}</td><td>{html.escape(o.rule)}</td><td>{html.escape(o.title)}</td>"
                    f'<td class="num">{o.hours:.1f}</td><td class="num">{len(o.periods)}</td>'
                    f"<td>{html.escape(_when(longest.start)) + f' ({longest.hours:.1f} h)' if longest else ''}</td></tr>")
    periods = sorted(((o, p) for o in result.outcomes for p in o.periods), key=lambda op: -op[1].hours)[:worst]
    sections = []
    for o, p in periods:
        causes = "".join(f"<li>{html.escape(c)}</li>" for c in o.causes)
        sections.append(f'<div class="fault"><h3>{html.escape(o.equip)} {html.escape(o.rule)}: '
                        f"{html.escape(_when(p.start))} to {html.escape(_when(p.end))} ({p.hours:.1f} h)</h3>"
                        f"<p>{html.escape(p.explanation)}</p>"
                        + (f"<p>Likely causes:</p><ul>{causes}</ul>" if causes else "")
                        + chart(result, o, p) + "</div>")
    body = ("<table><tr><th>equipment</th><th>rule</th><th>what</th><th>fault hours</th><th>periods</th>"
            f"<th>longest</th></tr>{''.join(rows)}</table>" if rows else "<p>No fault in this period.</p>")
    skipped = "".join(f"<li>{html.escape(s)}</li>" for s in result.skipped)
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p><small>{html.escape(_when(result.start))} to {html.escape(_when(result.end))}, one sample every "
            f"{result.sample:g} s ({html.escape(result.tier)} history)</small></p>{body}"
            + (f"<p>Left out:</p><ul>{skipped}</ul>" if skipped else "")
            + (f"<h2>Worst periods</h2>{''.join(sections)}" if sections else "") + "</body></html>")


__all__ = ["chart", "render_html"]
