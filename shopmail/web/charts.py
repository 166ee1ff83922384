"""Charts drawn on the server as SVG: no script, no library, nothing fetched. Each chart names
itself for screen readers (role="img", <title>, <desc>) and every bar carries its numbers in a
<title> (a tooltip); the pages print the same numbers in a table beside it, so a chart never
has to be read by its colours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 20, 10, 26
COLOURS = {
    "sent": "#2f7d4a",
    "failed": "#c23b32",
    "refused": "#c23b32",
    "bounced": "#d9822b",
    "unknown": "#6f6f8f",
    "undelivered": "#8a5a9e",
    "remaining": "#b7c3cf",
    "deleted": "#d5d5d5",
}


@dataclass(frozen=True)
class Series:
    key: str  # picks the colour; the state or outcome it counts
    label: str
    values: Sequence[int]


@dataclass(frozen=True)
class Part:
    key: str
    label: str
    value: int


def _nice_step(value: int) -> int:
    """The gridline step: 1, 2 or 5 times a power of ten, so that four steps reach `value`."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor * 4 >= value:
                return step * factor
        step *= 10


def _svg(chart_id: str, title: str, desc: str, body: list[str], height: int) -> Markup:
    head = (
        f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-label="{escape(title)}" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
    )
    # Every text put in above went through escape(); the rest are numbers and fixed markup.
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


def bars(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    every: int = 1,
) -> Markup:
    """Stacked bars, one per label (a day, a minute); every `every`-th label, counted back from
    the last, is written under its bar."""
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    step = _nice_step(max(totals, default=0))
    top = step * 4
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    body = _axis(step, plot_w, plot_h)
    for i, label in enumerate(labels):
        x, base = LEFT + i * slot + slot * 0.12, TOP + plot_h
        numbers = " · ".join(f"{s.label} {s.values[i]:,}" for s in series)
        body.append(f'<g class="bar"><title>{escape(label)}: {escape(numbers)}</title>')
        for s in series:
            h = s.values[i] * plot_h / top
            if h > 0:
                base -= h
                body.append(
                    f'<rect x="{x:.1f}" y="{base:.1f}" width="{slot * 0.76:.1f}" '
                    f'height="{h:.1f}" fill="{COLOURS.get(s.key, "#888")}" '
                    f'data-series="{escape(s.key)}"/>'
                )
        body.append("</g>")
        if (len(labels) - 1 - i) % every == 0:  # the last bar (today, now) always named
            body.append(
                f'<text class="tick" x="{LEFT + (i + 0.5) * slot:.1f}" y="{HEIGHT - 8}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    body.append(_legend(series))
    return _svg(chart_id, title, desc, body, HEIGHT + 22)


def _axis(step: int, plot_w: float, plot_h: float) -> list[str]:
    lines = []
    for n in range(5):
        value = step * n
        y = TOP + plot_h - plot_h * n / 4
        lines.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#ccc" stroke-width="{1 if n else 1.5}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:,}</text>'
        )
    return lines


def _legend(series: Sequence[Series], y: int = HEIGHT + 14) -> str:
    items, x = [], LEFT
    for s in series:
        colour = COLOURS.get(s.key, "#888")
        items.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text class="legend" x="{x + 14}" y="{y}">{escape(s.label)}</text>'
        )
        x += 28 + 13 * len(s.label)
    return "".join(items)


def split(chart_id: str, title: str, desc: str, parts: Sequence[Part]) -> Markup:
    """One bar across the width, cut in proportion to each part (the parts with none left out)."""
    total = sum(p.value for p in parts) or 1
    x, body = 0.0, []
    shown = [p for p in parts if p.value]
    for p in shown:
        w = WIDTH * p.value / total
        body.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="28" '
            f'fill="{COLOURS.get(p.key, "#888")}" data-series="{escape(p.key)}">'
            f"<title>{escape(p.label)} {p.value:,}</title></rect>"
        )
        x += w
    return _svg(chart_id, title, desc, [*body, _legend_parts(shown)], 58)


def _legend_parts(parts: Sequence[Part]) -> str:
    series = [Series(p.key, f"{p.label} {p.value:,}", ()) for p in parts]
    return _legend(series, y=50)
