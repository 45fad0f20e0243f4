"""Server-side SVG charts (pure): no scripts, no external assets, readable as-is.

Every bar has a ``<title>`` (a tooltip, and what a screen reader says) and its value is
written next to it, so the chart stands without colour or hovering.
"""
from __future__ import annotations

from html import escape
from typing import Sequence

PALETTE = ("#2f6fb0", "#3f9c5a", "#d08a1e", "#8a4fb3", "#c0504d")


def _num(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def hbar_chart(chart_id: str, title: str, labels: Sequence[str], values: Sequence[float],
               notes: Sequence[str] = (), width: int = 640) -> str:
    """Horizontal bars, one per label (a funnel reads top to bottom)."""
    row, left, top = 34, 150, 34
    height = top + row * len(labels) + 10
    scale = (width - left - 120) / max(max(values, default=0), 1)
    parts = [_open(chart_id, title, width, height),
             f'<text x="10" y="20" class="t">{escape(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = top + i * row
        w = max(value * scale, 1 if value else 0)
        note = notes[i] if i < len(notes) else ""
        text = f"{_num(value)}{'  ' + note if note else ''}"
        parts.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect class="bar" x="{left}" y="{y + 4}" width="{w:.1f}" height="{row - 12}"'
                     f' fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(label)}: {escape(text)}</title></rect>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 17}">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def grouped_bars(chart_id: str, title: str, categories: Sequence[str], series: Sequence[str],
                 values: Sequence[Sequence[float]], unit: str = "", width: int = 720) -> str:
    """Vertical bars grouped by category (e.g. month), one colour per series (stage)."""
    height, left, bottom, top = 280, 44, 56, 40
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max((v for row in values for v in row), default=0) or 1
    n = max(len(categories), 1)
    group = plot_w / n
    bar = max(min((group - 8) / max(len(series), 1), 28), 2)
    parts = [_open(chart_id, title, width, height),
             f'<text x="10" y="20" class="t">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" class="axis"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{_num(peak)}{escape(unit)}</text>',
             f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>']
    for c, category in enumerate(categories):
        x0 = left + c * group + (group - bar * len(series)) / 2
        for s, name in enumerate(series):
            value = values[c][s] if s < len(values[c]) else 0
            h = plot_h * value / peak
            x = x0 + s * bar
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 1:.1f}"'
                         f' height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(category)},'
                         f' {escape(name)}: {_num(value)}{escape(unit)}</title></rect>')
        parts.append(f'<text x="{left + c * group + group / 2:.1f}" y="{top + plot_h + 16}"'
                     f' text-anchor="middle">{escape(category)}</text>')
    for s, name in enumerate(series):  # legend
        x = left + s * 150
        parts.append(f'<rect x="{x}" y="{height - 22}" width="12" height="12" fill="{PALETTE[s % len(PALETTE)]}"/>'
                     f'<text x="{x + 16}" y="{height - 12}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _open(chart_id: str, title: str, width: int, height: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="chart" role="img"'
            f' aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
            '<style>text{font:12px sans-serif;fill:#222}.t{font-weight:bold;font-size:14px}'
            '.axis{stroke:#888}</style>')
