"""Server-rendered SVG charts, drawn by pygal and inlined in the page.

pygal writes a small configuration ``<script>`` into every chart for its optional
interactive tooltips; the dashboard serves no scripts (its CSP forbids them), so
those elements are removed from the tree before it is serialised. The numbers a
chart shows are also in a table next to it, for screen readers and print.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import pygal
from markupsafe import Markup
from pygal.etree import etree
from pygal.style import Style

# Every colour reaches WCAG AA contrast on white: text ≥ 4.5:1, marks ≥ 3:1.
INK = "#1a1a1a"
SUBTLE = "#4d4d4d"
SERIES = ("#1f5f99", "#a34700", "#2e6b30", "#6a1b9a", "#8a1c3c")

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground=INK,
    foreground_strong=INK,
    foreground_subtle=SUBTLE,
    opacity="1",
    opacity_hover="0.85",
    transition="none",
    colors=SERIES,
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=13,
    legend_font_size=14,
    title_font_size=16,
    tooltip_font_size=13,
)

_COMMON: dict[str, Any] = {
    "style": STYLE,
    "js": [],  # no scripts: nothing from a CDN, nothing inline
    "disable_xml_declaration": True,
    "explicit_size": False,
    "legend_at_bottom": True,
    "margin": 16,
}


def _inline(chart: Any, label: str) -> Markup:
    """The chart as an accessible inline ``<svg>``: a title, an aria-label, no scripts."""
    root = chart.render_tree()
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    title_id = f"t-{uuid.uuid4().hex[:10]}"
    title = etree.Element("title")
    title.set("id", title_id)
    title.text = label
    root.insert(0, title)
    root.set("role", "img")
    root.set("aria-labelledby", title_id)
    root.set("aria-label", label)
    root.set("focusable", "false")
    svg: str = etree.tostring(root, encoding="unicode")
    # The SVG is built by pygal's element tree, which escapes every text node.
    return Markup(svg)  # noqa: S704


def bar_chart(label: str, rows: Sequence[tuple[str, int | None]], *, series: str) -> Markup:
    """A horizontal bar per row; a suppressed count (None) draws no bar."""
    chart = pygal.HorizontalBar(
        **_COMMON,
        title=label,
        width=480,
        height=max(180, 70 + 36 * len(rows)),
        show_legend=False,
        min_scale=2,
        max_scale=6,
    )
    chart.x_labels = [key for key, _ in rows]
    chart.add(series, [n for _, n in rows])
    return _inline(chart, label)


def cumulative_chart(
    label: str,
    weeks: Sequence[date],
    achieved: Sequence[int],
    pace: Sequence[int | None],
    *,
    achieved_name: str,
    pace_name: str,
) -> Markup:
    """Cumulative progress at each week, against where the straight line to the goal is."""
    chart = pygal.Line(
        **_COMMON,
        title=label,
        width=800,
        height=380,
        show_legend=True,
        truncate_legend=-1,
        legend_at_bottom_columns=1,
        x_label_rotation=30,
        show_minor_x_labels=False,
        x_labels_major_count=10,
        dots_size=2,
        min_scale=4,
        max_scale=8,
        value_formatter=lambda n: f"{n:,.0f}",
    )
    chart.x_labels = [w.isoformat() for w in weeks]
    chart.add(achieved_name, list(achieved))
    if any(p is not None for p in pace):
        chart.add(
            pace_name,
            list(pace),
            show_dots=False,
            stroke_style={"dasharray": "8, 5", "width": 2.5},
        )
    return _inline(chart, label)
