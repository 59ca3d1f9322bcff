"""The dashboard preview: one self-contained HTML page with inline SVG line charts (pure).

No plotting dependency: each metric widget is drawn as an SVG of polylines with min/max
axis labels and a legend; text widgets show their markdown as preformatted text.
"""
from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from promwatch_tools.local.query import Series

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
MAX_LEGEND = 12


@dataclass(slots=True)
class WidgetView:
    """A widget with the data to draw."""

    title: str
    kind: str = "metric"
    series: list[Series] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    markdown: str | None = None
    x_range: tuple[float, float] | None = None
    """The time axis (epoch seconds) when it is shared with other widgets; else the data's span."""

    @property
    def points(self) -> int:
        """Data points over all series."""
        return sum(len(s.values) for s in self.series)


@dataclass(slots=True)
class DashboardView:
    """A dashboard (its name and where it came from) with its widgets."""

    name: str
    source: str
    widgets: list[WidgetView] = field(default_factory=list)


def _number(value: float) -> str:
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e4, "k")):
        if magnitude >= scale:
            return f"{value / scale:.3g}{suffix}"
    if magnitude < 1e-3:
        return f"{value:.2e}"
    return f"{value:.4g}"


def _clock(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=UTC).strftime("%H:%M:%S")


def svg_chart(series: Sequence[Series], *, width: int = 520, height: int = 220,
              x_range: tuple[float, float] | None = None) -> str:
    """An SVG line chart of ``series`` (time on x, value on y); a lone point is a dot.

    ``x_range`` fixes the time axis (charts side by side share one); by default it spans the data.
    """
    drawn = [s for s in series if s.values]
    points = sum(len(s.values) for s in drawn)
    head = (f'<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" data-series="{len(drawn)}" data-points="{points}">')
    if not drawn:
        return head + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="empty">no data</text></svg>'
    left, right, top, bottom = 64, 10, 10, 24
    xs = [t for s in drawn for t in s.timestamps]
    ys = [v for s in drawn for v in s.values]
    x0, x1 = x_range or (min(xs), max(xs))
    y0, y1 = min(0.0, min(ys)), max(ys)
    if math.isclose(x0, x1):
        x0, x1 = x0 - 30, x1 + 30
    if math.isclose(y0, y1):
        y1 = y0 + (abs(y0) or 1.0)
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(t: float) -> float:
        return left + (t - x0) / (x1 - x0) * plot_w

    def sy(v: float) -> float:
        return top + (1 - (v - y0) / (y1 - y0)) * plot_h

    parts = [head]
    parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="frame"/>')
    for fraction in (0.0, 0.5, 1.0):
        value = y0 + fraction * (y1 - y0)
        y = sy(value)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{_number(value)}</text>')
    parts.append(f'<text x="{left}" y="{height - 6}" text-anchor="start">{_clock(x0)}</text>')
    parts.append(f'<text x="{left + plot_w}" y="{height - 6}" text-anchor="end">{_clock(x1)}</text>')
    for index, line in enumerate(drawn):
        color = PALETTE[index % len(PALETTE)]
        coords = " ".join(f"{sx(t):.1f},{sy(v):.1f}" for t, v in zip(line.timestamps, line.values, strict=True))
        title = html.escape(line.label)
        if len(line.values) == 1:
            cx, cy = coords.split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{color}"><title>{title}</title></circle>')
        else:
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="1.6">'
                         f"<title>{title}</title></polyline>")
    parts.append("</svg>")
    return "".join(parts)


def _legend(series: Sequence[Series]) -> str:
    drawn = [s for s in series if s.values]
    items = []
    for index, line in enumerate(drawn[:MAX_LEGEND]):
        color = PALETTE[index % len(PALETTE)]
        latest = _number(line.values[-1])
        items.append(f'<li><span class="swatch" style="background:{color}"></span>'
                     f"{html.escape(line.label)} <b>{latest}</b></li>")
    if len(drawn) > MAX_LEGEND:
        items.append(f"<li>... and {len(drawn) - MAX_LEGEND} more</li>")
    return f'<ul class="legend">{"".join(items)}</ul>'


def _widget(widget: WidgetView) -> str:
    body: list[str] = [f"<h3>{html.escape(widget.title)}</h3>"]
    if widget.markdown is not None:
        body.append(f"<pre>{html.escape(widget.markdown)}</pre>")
    elif widget.kind in ("metric", "chart"):
        body.append(svg_chart(widget.series, x_range=widget.x_range))
        body.append(_legend(widget.series))
    body.extend(f'<p class="note">{html.escape(note)}</p>' for note in widget.notes)
    return f'<section class="widget">{"".join(body)}</section>'


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;background:#fafafa;color:#222}
h1{margin-bottom:.2rem} .meta{color:#666;margin-top:0}
.dashboard{margin:1.5rem 0} .grid-widgets{display:flex;flex-wrap:wrap;gap:1rem}
.widget{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;width:540px}
.widget h3{font-size:.95rem;margin:.2rem 0 .4rem}
svg text{font-size:10px;fill:#555} svg .empty{font-size:13px;fill:#999}
svg .frame{fill:none;stroke:#ccc} svg .grid{stroke:#eee}
.legend{list-style:none;padding:0;margin:.3rem 0;font-size:.75rem;columns:2}
.swatch{display:inline-block;width:.7rem;height:.7rem;margin-right:.3rem;border-radius:2px}
.note{font-size:.75rem;color:#a60} pre.summary{background:#fff;border:1px solid #ddd;padding:.8rem;white-space:pre-wrap}
"""


def render_page(
    dashboards: Sequence[DashboardView], *, title: str, generated_at: datetime, summary: Sequence[str]
) -> str:
    """The whole preview page.

    Parameters
    ----------
    dashboards
        What to draw, in order.
    title
        The page heading.
    generated_at
        When the data was read (shown on the page).
    summary
        Lines of the run's summary, shown above the dashboards.
    """
    sections = []
    for dashboard in dashboards:
        widgets = "".join(_widget(w) for w in dashboard.widgets)
        sections.append(
            f'<div class="dashboard"><h2>{html.escape(dashboard.name)}</h2>'
            f'<p class="meta">{html.escape(dashboard.source)}</p>'
            f'<div class="grid-widgets">{widgets}</div></div>'
        )
    summary_block = html.escape("\n".join(summary))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="meta">generated {generated_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC '
        "from the embedded AWS emulator (moto server); no AWS account was used</p>"
        f'<pre class="summary">{summary_block}</pre>'
        f"{''.join(sections)}</body></html>\n"
    )
