"""`difygen explain --format html`: the headroom of a profile as a picture.

One self-contained HTML page (inline SVG and CSS, no script, nothing fetched), so a
reviewer can open it from a CI artifact. For CPU and memory, two stacked bars (requests at
minimum and at maximum scale, one segment per component) are drawn against the namespace
quota and, for a single-node profile, the node's usable capacity; a third chart stacks the
database connections each component can open at maximum scale against the budget and
Postgres max_connections. Deterministic: the same plan gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from html import escape

from generator.plan import Plan
from generator.quantity import format_cpu, format_memory, mebibytes
from generator.tunables import CONNECTION_BUDGET

# A palette that stays distinguishable for common colour-vision deficiencies (Okabe-Ito
# plus darker variants), cycled over components in catalog order.
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
            "#000000", "#7F3C8D", "#11A579", "#3969AC", "#F2B701", "#E73F74", "#80BA5A")
Show = Callable[[Fraction], str]
_WIDTH = 760
_LABEL = 150  # left column for the bar labels
_BAR = 28
_GAP = 14


@dataclass(frozen=True)
class _Segment:
    component: str
    value: Fraction


@dataclass(frozen=True)
class _Bar:
    label: str  # "minimum scale", "maximum scale", "at maximum scale"
    scale: str  # data attribute: min or max
    segments: tuple[_Segment, ...]


@dataclass(frozen=True)
class _Limit:
    name: str  # data attribute: quota, node, budget, max-connections
    label: str
    value: Fraction


def _chart(title: str, resource: str, bars: list[_Bar], limits: list[_Limit],
           show: Show, colors: dict[str, str]) -> str:
    top = max([sum((s.value for s in b.segments), Fraction(0)) for b in bars]
              + [lim.value for lim in limits] + [Fraction(1)])
    span = _WIDTH - _LABEL - 20
    height = 30 + len(bars) * (_BAR + _GAP) + 18 * len(limits) + 10

    def x(value: Fraction) -> float:
        return round(_LABEL + float(value / top) * span * 0.95, 1)

    parts = [f'<svg class="chart" data-resource="{resource}" width="{_WIDTH}" '
             f'height="{height}" viewBox="0 0 {_WIDTH} {height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="0" y="16" class="title">{escape(title)}</text>']
    y = 30
    for bar in bars:
        total = sum((s.value for s in bar.segments), Fraction(0))
        parts.append(f'<text x="0" y="{y + 19}">{escape(bar.label)}</text>')
        start = Fraction(0)
        for seg in bar.segments:
            if seg.value <= 0:
                continue
            x0, x1 = x(start), x(start + seg.value)
            parts.append(
                f'<rect class="seg" data-component="{escape(seg.component)}" '
                f'data-scale="{bar.scale}" data-resource="{resource}" x="{x0}" y="{y}" '
                f'width="{round(x1 - x0, 1)}" height="{_BAR}" '
                f'fill="{colors[seg.component]}"><title>{escape(seg.component)}: '
                f'{escape(show(seg.value))}</title></rect>')
            start += seg.value
        parts.append(f'<text x="{x(total) + 4}" y="{y + 19}" class="total">'
                     f'{escape(show(total))}</text>')
        y += _BAR + _GAP
    bottom = y - _GAP + 4
    for n, lim in enumerate(limits):
        lx = x(lim.value)
        parts.append(f'<line class="limit" data-limit="{lim.name}" x1="{lx}" y1="24" '
                     f'x2="{lx}" y2="{bottom}" />')
        parts.append(f'<text x="{lx}" y="{bottom + 14 + 18 * n}" class="limit-label" '
                     f'text-anchor="end">{escape(lim.label)}: {escape(show(lim.value))}'
                     '</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _memory(value: Fraction) -> str:
    shown = format_memory(value)
    return f"{mebibytes(value)}Mi" if shown.isdigit() and value >= 2**20 else shown


def _number(value: Fraction) -> str:
    return str(int(value))


def _headroom(used: Fraction, limit: Fraction, fmt: Show) -> str:
    if limit <= 0:
        return ""
    percent = int(used * 100 / limit)
    state = "over" if used > limit else "ok"
    return (f'<li class="{state}">{escape(fmt(used))} of {escape(fmt(limit))} '
            f'({percent}%)</li>')


def explain_html(plan: Plan) -> str:
    p = plan.profile
    comps = plan.components()
    colors = {c.name: _PALETTE[i % len(_PALETTE)] for i, (c, _) in enumerate(comps)}
    sections = []
    notes = []
    charts: tuple[tuple[str, str, Show], ...] = (("cpu", "CPU requests", format_cpu),
                                                 ("memory", "Memory requests", _memory))
    for resource, title, fmt in charts:
        bars = [_Bar(label, scale, tuple(
            _Segment(c.name, getattr(s.resources.requests, resource) * (
                s.scaling.min_replicas if scale == "min" else s.scaling.max_replicas))
            for c, s in comps)) for label, scale in (("minimum scale", "min"),
                                                      ("maximum scale", "max"))]
        limits = []
        at_max = getattr(plan.at_max.requests, resource)
        if plan.quota is not None:
            quota = plan.quota.requests_cpu if resource == "cpu" else (
                plan.quota.requests_memory)
            limits.append(_Limit("quota", "namespace quota", quota))
            notes.append(f"<p>{escape(title)} at maximum scale against the quota:</p><ul>"
                         f"{_headroom(at_max, quota, fmt)}</ul>")
        if p.node is not None:
            capacity = p.node.cpu if resource == "cpu" else p.node.memory
            usable = capacity * (100 - p.node.reserved_percent) / 100
            limits.append(_Limit("node", f"node usable ({p.node.reserved_percent}% "
                                 "reserved)", usable))
            notes.append(f"<p>{escape(title)} at maximum scale against the node:</p><ul>"
                         f"{_headroom(at_max, usable, fmt)}</ul>")
        sections.append(_chart(f"{title}: {p.name}", resource, bars, limits, fmt, colors))
    b = plan.budget
    budget_bar = _Bar("at maximum scale", "max", tuple(
        _Segment(u.component, Fraction(u.total)) for u in b.uses))
    sections.append(_chart(
        f"Database connections at maximum scale: {p.name}", "connections", [budget_bar],
        [_Limit("budget", f"budget ({int(CONNECTION_BUDGET * 100)}%)", Fraction(b.allowed)),
         _Limit("max-connections", "max_connections", Fraction(b.max_connections))],
        _number, colors))
    notes.append("<p>Database connections against the budget:</p><ul>"
                 f"{_headroom(Fraction(b.used), Fraction(b.allowed), _number)}</ul>")
    legend = "".join(
        f'<li><span class="swatch" style="background:{colors[c.name]}"></span>'
        f'{escape(c.name)}: {s.scaling.min_replicas}-{s.scaling.max_replicas} x '
        f'{escape(format_cpu(s.resources.requests.cpu))} / '
        f'{escape(format_memory(s.resources.requests.memory))}</li>' for c, s in comps)
    node = (f"node {format_cpu(p.node.cpu)} CPU / {format_memory(p.node.memory)}"
            if p.node is not None else "no single node declared (multi-node pool)")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>difygen explain {escape(p.name)}</title>
<style>
body {{ font: 14px/1.4 sans-serif; margin: 24px; color: #222; background: #fff; }}
svg.chart {{ display: block; margin: 12px 0 24px; }}
svg text {{ font: 12px sans-serif; fill: #222; }}
svg text.title {{ font-weight: bold; font-size: 14px; }}
line.limit {{ stroke: #c00; stroke-width: 2; stroke-dasharray: 6 3; }}
svg text.limit-label {{ fill: #c00; }}
ul.legend {{ list-style: none; padding: 0; columns: 2; }}
.swatch {{ display: inline-block; width: 12px; height: 12px; margin-right: 6px; }}
li.over {{ color: #c00; font-weight: bold; }}
</style>
</head>
<body>
<h1>Profile {escape(p.name)}</h1>
<p>{escape(p.description)}</p>
<p>chain {escape(" -> ".join(p.chain))}; Kubernetes {escape(p.kubernetes_version)};
namespace {escape(p.namespace)}; {escape(node)}</p>
{chr(10).join(sections)}
<h2>Headroom</h2>
{chr(10).join(notes)}
<h2>Components (replicas x requests per pod)</h2>
<ul class="legend">{legend}</ul>
</body>
</html>
"""
