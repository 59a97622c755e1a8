"""Charts drawn as SVG on the server (WeasyPrint runs no JavaScript). Pure: numbers in,
SVG text out; every label is escaped."""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from html import escape

INK = "#1f2933"
GRID = "#d9dee3"
LINE = "#2563a6"
ALERT = "#b42318"


def _fmt(value: float) -> str:
    if value == 0 or 0.01 <= abs(value) < 10_000:
        return f"{value:.3g}"
    return f"{value:.2e}"


def _bounds(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if math.isclose(low, high):
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.08
    return low - pad, high + pad


def line_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    width: int = 640,
    height: int = 180,
    threshold: float | None = None,
) -> str:
    """A line over labelled x positions; None values leave a gap. `threshold` draws a dashed
    horizontal rule (a drift threshold, an accuracy floor)."""
    known = [v for _, v in points if v is not None and math.isfinite(v)]
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f'<text x="4" y="14" font-size="11" fill="{INK}">{escape(title)}</text>'
    )
    if not known:
        return head + f'<text x="4" y="40" font-size="10" fill="{INK}">no data</text></svg>'
    values = [*known, threshold] if threshold is not None else known
    low, high = _bounds(values)
    left, right, top, bottom = 48, width - 8, 22, height - 22
    n = max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + (right - left) * i / n

    def y(v: float) -> float:
        return bottom - (bottom - top) * (v - low) / (high - low)

    parts = [head]
    for tick in (low, (low + high) / 2, high):
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{GRID}"/>'
            f'<text x="{left - 4}" y="{y(tick) + 3:.1f}" font-size="9" text-anchor="end" '
            f'fill="{INK}">{_fmt(tick)}</text>'
        )
    if threshold is not None:
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
            f'stroke="{ALERT}" stroke-dasharray="4 3"/>'
        )
    segment: list[str] = []
    for i, (_, v) in enumerate(points):
        if v is None or not math.isfinite(v):
            if segment:
                parts.append(_polyline(segment))
                segment = []
            continue
        segment.append(f"{x(i):.1f},{y(v):.1f}")
    if segment:
        parts.append(_polyline(segment))
    for i in sorted({0, len(points) // 2, len(points) - 1}):
        anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 6}" font-size="9" text-anchor="{anchor}" '
            f'fill="{INK}">{escape(points[i][0])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _polyline(coords: list[str]) -> str:
    if len(coords) == 1:
        cx, cy = coords[0].split(",")
        return f'<circle cx="{cx}" cy="{cy}" r="2" fill="{LINE}"/>'
    return f'<polyline fill="none" stroke="{LINE}" stroke-width="1.5" points="{" ".join(coords)}"/>'


def bar_chart(
    bars: Sequence[tuple[str, float]], *, title: str, width: int = 640, bar_height: int = 14
) -> str:
    """Horizontal bars (feature importance), largest first as given."""
    label_w, top = 180, 22
    height = top + len(bars) * (bar_height + 4) + 8
    high = max((abs(v) for _, v in bars), default=1.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f'<text x="4" y="14" font-size="11" fill="{INK}">{escape(title)}</text>'
    ]
    span = width - label_w - 60
    for i, (label, value) in enumerate(bars):
        y = top + i * (bar_height + 4)
        w = span * abs(value) / high
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_height - 3}" font-size="9" text-anchor="end" '
            f'fill="{INK}">{escape(label[:36])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="{LINE}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + bar_height - 3}" font-size="9" '
            f'fill="{INK}">{_fmt(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def data_uri(svg: str) -> str:
    """The SVG as an image URL: WeasyPrint draws an <img> without running its elements
    through the CSS cascade, which keeps a report with many charts fast to lay out."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def sparklines(
    rows: Sequence[tuple[str, Sequence[float | None], float | None]],
    *,
    title: str,
    width: int = 640,
    row_height: int = 18,
) -> str:
    """One small line per row (a feature's drift statistic over the windows), scaled to the
    row's own range together with its threshold (dashed); one image however many rows."""
    label_w, top, value_w = 150, 22, 60
    height = top + len(rows) * row_height + 6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f'<text x="4" y="14" font-size="11" fill="{INK}">{escape(title)}</text>'
    ]
    left, right = label_w, width - value_w
    for r, (label, values, threshold) in enumerate(rows):
        y0 = top + r * row_height
        parts.append(
            f'<text x="{label_w - 6}" y="{y0 + row_height - 6}" font-size="9" '
            f'text-anchor="end" fill="{INK}">{escape(label[:28])}</text>'
            f'<line x1="{left}" x2="{right}" y1="{y0 + row_height - 1}" '
            f'y2="{y0 + row_height - 1}" stroke="{GRID}"/>'
        )
        parts.extend(_spark(values, threshold, left=left, right=right, top=y0, h=row_height))
    parts.append("</svg>")
    return "".join(parts)


def _spark(
    values: Sequence[float | None],
    threshold: float | None,
    *,
    left: float,
    right: float,
    top: float,
    h: int,
) -> list[str]:
    """One sparkline row: the line, its threshold and its last value."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    if not known:
        return []
    low, high = _bounds([*known, threshold] if threshold is not None else known)
    n = max(len(values) - 1, 1)

    def y(v: float) -> float:
        return top + h - 3 - (h - 6) * (v - low) / (high - low)

    parts = []
    if threshold is not None:
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y(threshold):.1f}" '
            f'y2="{y(threshold):.1f}" stroke="{ALERT}" stroke-dasharray="3 2"/>'
        )
    coords = [
        f"{left + (right - left) * i / n:.1f},{y(v):.1f}"
        for i, v in enumerate(values)
        if v is not None and math.isfinite(v)
    ]
    parts.append(_polyline(coords))
    parts.append(
        f'<text x="{right + 4}" y="{top + h - 6}" font-size="9" '
        f'fill="{INK}">{_fmt(known[-1])}</text>'
    )
    return parts
