"""The board report: the dashboard's figures for a period as a page and a PDF (WeasyPrint). Its charts are
SVG drawn here from the same numbers, so the PDF needs no browser and no network; every bar and point is
labelled with its value, so the charts read in black and white."""

from datetime import timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from .dashboards import Dashboard, margin_runs, nps_label, runs, step_label
from .models import BoardReport
from .selectors import Period, detractor_themes

WIDTH, HEIGHT, PAD_L, PAD_B, PAD_T = 640, 220, 44, 36, 16
INK, MUTED, GRID = "#1c2430", "#5a6472", "#d9dde3"
FILLS = {"promoter": "#16703a", "passive": "#b8bcc4", "detractor": "#b42318"}


def _scale(value, low, high):
    plot = HEIGHT - PAD_B - PAD_T
    return PAD_T + plot - (value - low) / (high - low) * plot


def _frame(low, high, ticks, unit="") -> list[str]:
    parts = []
    for tick in ticks:
        y = _scale(tick, low, high)
        parts.append(f'<line x1="{PAD_L}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10" fill="{MUTED}">{tick}{unit}</text>'
        )
    return parts


def _svg(parts: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" font-family="DejaVu Sans, sans-serif">{"".join(parts)}</svg>'
    )


def line_chart(labels, values, title, low=-100, high=100, band=None, unit="", dashed=None) -> str:
    """Points joined by a line, each labelled; `band` (runs of (index, low, high), as `margin_runs` gives
    them) shades the margin of error; `dashed` is a second series drawn dashed with square markers."""
    step = (WIDTH - PAD_L - 24) / max(len(labels) - 1, 1)
    xs = [PAD_L + 12 + i * step for i in range(len(labels))]
    ticks = [low + (high - low) * i // 4 for i in range(5)]
    parts = _frame(low, high, ticks, unit)
    for run in band or []:
        top = [(xs[i], _scale(hi, low, high)) for i, _, hi in run]
        bottom = [(xs[i], _scale(lo, low, high)) for i, lo, _ in reversed(run)]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in top + bottom)
        # The stroke gives a period that stands alone a visible bar, not a polygon of no width.
        parts.append(f'<polygon points="{points}" fill="#c7d5f8" stroke="#c7d5f8" stroke-width="6" opacity="0.7"/>')
    for series, style in ((values, ""), (dashed, ' stroke-dasharray="5 3"')):
        if not series:
            continue
        coords = [(x, _scale(v, low, high), v) for x, v in zip(xs, series, strict=True) if v is not None]
        for run in runs(series):  # the line breaks where a period has no value, as on the dashboard
            if len(run) > 1:
                path = " ".join(f"{xs[i]:.1f},{_scale(series[i], low, high):.1f}" for i in run)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{INK}" stroke-width="1.5"{style}/>')
        for x, y, v in coords:
            marker = (
                f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{INK}"/>'
                if style
                else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{INK}"/>'
            )
            parts.append(marker)
            text = f"{v:.0f}{unit}" if unit else f"{v:+.0f}"
            parts.append(
                f'<text x="{x:.1f}" y="{y + (14 if style else -7):.1f}" text-anchor="middle" font-size="10" '
                f'fill="{INK}">{text}</text>'
            )
    for x, label in zip(xs, labels, strict=True):
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 14}" text-anchor="middle" font-size="10" '
            f'fill="{MUTED}">{escape(label)}</text>'
        )
    return _svg(parts, title)


def stacked_bars(labels, shares, title) -> str:
    """shares: [(promoters %, passives %, detractors %)] per label; each segment labelled and hatched."""
    step = (WIDTH - PAD_L - 16) / max(len(labels), 1)
    width = min(step * 0.7, 48)
    parts = [
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2"/></pattern></defs>',
        *_frame(0, 100, [0, 25, 50, 75, 100], "%"),
    ]
    for i, (label, triple) in enumerate(zip(labels, shares, strict=True)):
        x = PAD_L + 8 + i * step + (step - width) / 2
        bottom = 0.0
        for category, share in zip(("promoter", "passive", "detractor"), triple, strict=True):
            if not share:
                continue
            y_top, y_bottom = _scale(bottom + share, 0, 100), _scale(bottom, 0, 100)
            rect = f'x="{x:.1f}" y="{y_top:.1f}" width="{width:.1f}" height="{y_bottom - y_top:.1f}"'
            parts.append(f'<rect {rect} fill="{FILLS[category]}"/>')
            if category == "passive":
                parts.append(f'<rect {rect} fill="url(#hatch)"/>')
            if share >= 8:
                color = INK if category == "passive" else "#ffffff"
                parts.append(
                    f'<text x="{x + width / 2:.1f}" y="{(y_top + y_bottom) / 2 + 3:.1f}" text-anchor="middle" '
                    f'font-size="9" fill="{color}">{share:.0f}%</text>'
                )
            bottom += share
        parts.append(
            f'<text x="{x + width / 2:.1f}" y="{HEIGHT - 14}" text-anchor="middle" font-size="10" '
            f'fill="{MUTED}">{escape(label)}</text>'
        )
    return _svg(parts, title)


def _initiatives(organization, period: Period) -> dict | None:
    """Initiatives approved at a change board and done in the period (when the initiatives app is there)."""
    try:
        from initiatives.models import Decision, Initiative
    except ImportError:
        return None
    since, until = period.bounds(organization.tz)
    approved = (
        Decision.objects.for_org(organization)
        .filter(outcome=Decision.Outcome.APPROVE, decided_at__gte=since, decided_at__lt=until)
        .select_related("initiative", "owner__user")
        .order_by("decided_at")[:25]
    )
    done = (
        Initiative.objects.for_org(organization)
        .filter(status="done", status_changed_at__gte=since, status_changed_at__lt=until)
        .select_related("owner__user")
        .order_by("status_changed_at")[:25]
    )
    return {"approved": list(approved), "done": list(done)}


def board_report_context(report: BoardReport) -> dict:
    organization = report.organization
    period = Period(report.period_start, report.period_end + timedelta(days=1))
    grain = "month" if period.month_count <= 12 else "quarter"
    dashboard = Dashboard(organization, period, grain=grain)
    context = dashboard.build()
    trend = dashboard.metrics.nps_trend(period, grain=grain)
    labels = [step_label(step, grain) for step, _ in trend]
    nps_svg = line_chart(
        labels,
        [fig.score for _, fig in trend],
        "NPS by month with its margin of error",
        band=margin_runs([fig for _, fig in trend]),
    )
    mix_svg = stacked_bars(
        labels,
        [
            (fig.share(fig.promoters) or 0, fig.share(fig.passives) or 0, fig.share(fig.detractors) or 0)
            for _, fig in trend
        ],
        "Promoters, passives and detractors",
    )
    revenue_rows = dashboard.metrics.revenue_trend(period)
    nrr = [r.net_retention for r in revenue_rows]
    churn = [r.gross_churn for r in revenue_rows]
    finite = [v for v in nrr + churn if v is not None]
    revenue_svg = line_chart(
        [step_label(r.period.start, "quarter") for r in revenue_rows],
        nrr,
        "Net revenue retention (solid) and gross churn (dashed)",
        low=0,
        high=max(120, int(max(finite, default=100) // 20 + 1) * 20),
        unit="%",
        dashed=churn,
    )
    return {
        **context,
        "organization": organization,
        "report": report,
        "headline": context["overall"],
        "headline_label": nps_label(context["overall"]),
        "svgs": {"nps": nps_svg, "mix": mix_svg, "revenue": revenue_svg},
        "themes": detractor_themes(organization, period),
        "initiatives": _initiatives(organization, period),
        "generated_at": timezone.now(),
    }


def board_report_pdf(report: BoardReport) -> bytes:
    from weasyprint import HTML

    html = render_to_string("metrics/pdf/board_report.html", board_report_context(report))
    return HTML(string=html, base_url=str(settings.BASE_DIR / "static") + "/").write_pdf()
