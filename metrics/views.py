from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from cxprogram.core.csv import csv_response
from cxprogram.core.forms import apply_errors
from cxprogram.tenancy.decorators import tenant_view
from feedback.models import Client

from . import catalog, imports, reports, services
from .dashboards import Dashboard, adoption_figure, client_figures
from .forms import (
    AdoptionAnswerForm,
    AdoptionSurveyForm,
    BoardReportForm,
    FilterForm,
    ImportForm,
    ProposalForm,
    RevenueForm,
    SettingsForm,
    TargetForm,
)
from .models import AdoptionResponse, AdoptionSurvey, BoardReport, MetricTarget, ProposalRecord, RevenueRecord
from .selectors import (
    CATEGORY_Q,
    Metrics,
    Period,
    Slice,
    detractor_themes,
    drilldown,
    root_causes,
    settings_for,
)

PAGE_SIZE = 50
# The executive summary's few headline figures.
SUMMARY_KEYS = ("nps", "response_rate", "net_revenue_retention", "revenue_at_risk", "feedback_participation",
                "adoption_score")  # fmt: skip


def _filters(request) -> FilterForm:
    return FilterForm(
        request.GET or None,
        organization=request.organization,
        today=Metrics(request.organization).today(),
    )


def _page(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"page": page, "query": query.urlencode()}


def _go(request, name, *args):
    return redirect(reverse(f"metrics:{name}", args=[request.organization.slug, *args]))


def _dashboard(request) -> tuple[FilterForm, Dashboard]:
    form = _filters(request)
    query = request.GET.dict()
    return form, Dashboard(request.organization, form.period, form.slice, form.chosen_grain, query)


# --- Dashboards ---------------------------------------------------------------------------------------


@tenant_view("dashboards.view")
def index(request):
    """The CX Center of Excellence dashboard."""
    form, dashboard = _dashboard(request)
    context = dashboard.build()
    return render(
        request,
        "metrics/dashboard.html",
        {
            **context,
            "form": form,
            "query": request.GET.urlencode(),
            "figures": {c["id"]: c["figure"] for c in context["charts"]},
        },
    )


@tenant_view("dashboards.view")
def dashboard_csv(request):
    """Any of the dashboard's tables as CSV: ?table=<chart id> with the page's filters."""
    form, dashboard = _dashboard(request)
    context = dashboard.build()
    table = request.GET.get("table", "")
    if table == "tiles":
        rows = [
            [t["label"], t["value"], t.get("target", ""), t["detail"]] for t in context["tiles"] + context["behaviors"]
        ]
        return csv_response("metrics-figures.csv", ["Metric", "Value", "Target", "Detail"], rows)
    chart = next((c for c in context["charts"] if c["id"] == table), None)
    if chart is None:
        raise Http404("No such table.")
    return csv_response(f"metrics-{table}.csv", chart["columns"], [r["cells"] for r in chart["rows"]])


def _responses(request):
    form = _filters(request)
    category = request.GET.get("category", "")
    slc = form.slice
    client_id = request.GET.get("client", "")
    if client_id.isdigit():
        slc = Slice(**{**slc.__dict__, "client_id": int(client_id)})
    queryset = drilldown(request.organization, form.period, slc, category if category in CATEGORY_Q else "")
    return form, category, queryset


@tenant_view("dashboards.view")
def responses(request):
    """The responses behind any figure: the dashboard's filters plus a category, a month or a client."""
    form, category, queryset = _responses(request)
    return render(
        request,
        "metrics/responses.html",
        {
            "form": form,
            "category": category,
            "period": form.period,
            **_page(request, queryset.order_by("-submitted_at")),
        },
    )


@tenant_view("dashboards.view")
def responses_csv(request):
    _, _, queryset = _responses(request)
    rows = (
        [
            r.submitted_at.astimezone(request.organization.tz).strftime("%Y-%m-%d %H:%M"),
            r.client.name,
            r.project.code,
            r.contact.name,
            r.get_contact_kind_display(),
            r.project_manager.user.display_name if r.project_manager else "",
            str(r.unit or ""),
            r.nps_score,
            r.nps_category,
            r.answers.get("reason", "") if isinstance(r.answers, dict) else "",
        ]
        for r in queryset.order_by("-submitted_at").iterator(chunk_size=2000)
    )
    header = [
        "Submitted",
        "Client",
        "Project",
        "Contact",
        "Contact kind",
        "Project manager",
        "Unit",
        "Score",
        "Category",
        "Main reason",
    ]
    return csv_response("responses.csv", header, rows)


@tenant_view("dashboards.view")
def summary(request):
    """The executive summary: headline figures against target, the trend, and what detractors talk about."""
    form, dashboard = _dashboard(request)
    context = dashboard.build()
    themes = detractor_themes(request.organization, form.period, form.slice)
    headline = [t for t in context["tiles"] + context["behaviors"] if t.get("key") in SUMMARY_KEYS]
    return render(
        request,
        "metrics/summary.html",
        {
            **context,
            "headline": headline,
            "form": form,
            "themes": themes,
            "root_causes": root_causes(request.organization, form.period),
            "figures": {c["id"]: c["figure"] for c in context["charts"][:1]},
            "query": request.GET.urlencode(),
        },
    )


@tenant_view("dashboards.view")
def client_account(request, pk):
    """A client's account figures: account NPS over time, responses by contact, revenue, open cases."""
    client = get_object_or_404(Client.objects.for_org(request.organization), pk=pk)
    metrics = Metrics(request.organization)
    period = Period.last_months(24, metrics.today())
    slc = Slice(client_id=client.pk)
    trend = metrics.account_trend(period, client.pk)
    revenue = metrics.revenue_by_month(period, slc)
    figures = client_figures(trend, revenue, metrics.settings.currency)
    return render(
        request,
        "metrics/client.html",
        {
            "client": client,
            "period": period,
            "trend": trend,
            "trend_scored": any(fig.score is not None for _, fig in trend),
            "min_n": metrics.settings.min_n,
            "contact_count": trend[0][1].population if trend else 0,
            "overall": metrics.nps(Period.last_months(12, metrics.today()), slc),
            "contacts": metrics.responses_by_contact(period, client.pk),
            "revenue": revenue,
            "revenue_total": sum(v for _, v in revenue),
            "cases": metrics.cases(slc),
            "figures": figures,
            "currency": metrics.settings.currency,
            "responses_url": reverse("metrics:responses", args=[request.organization.slug])
            + f"?client={client.pk}&months=24",
        },
    )


# --- Targets --------------------------------------------------------------------------------------------


@tenant_view("dashboards.view")
def targets(request):
    can_manage = request.membership.can("metrics.manage")
    form = TargetForm(request.POST or None, organization=request.organization)
    if request.method == "POST":
        if not can_manage:
            raise Http404
        if form.is_valid():
            try:
                services.save_target(
                    organization=request.organization, actor=request.user, request=request, **form.cleaned_data
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, "Target saved. It is checked against the figures every hour.")
                return _go(request, "targets")
    return render(
        request,
        "metrics/targets.html",
        {
            "targets": Metrics(request.organization).targets(),
            "form": form,
            "can_manage": can_manage,
            "catalog": catalog.METRICS,
        },
    )


@tenant_view("metrics.manage")
def target_edit(request, pk):
    target = get_object_or_404(MetricTarget.objects.for_org(request.organization), pk=pk)
    form = TargetForm(request.POST or None, instance=target, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_target(
                organization=request.organization,
                actor=request.user,
                instance=target,
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Target saved.")
            return _go(request, "targets")
    return render(request, "metrics/target_form.html", {"form": form, "target": target})


@require_POST
@tenant_view("metrics.manage")
def target_delete(request, pk):
    target = get_object_or_404(MetricTarget.objects.for_org(request.organization), pk=pk)
    services.delete_target(target=target, actor=request.user, request=request)
    messages.success(request, "Target removed.")
    return _go(request, "targets")


# --- Revenue and proposals -------------------------------------------------------------------------------


def _import(request, importer):
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return form, None
    try:
        report = importer(
            organization=request.organization, actor=request.user, uploaded=form.cleaned_data["file"], request=request
        )
    except ValidationError as error:
        apply_errors(form, error)
        return form, None
    if report.imported:
        messages.success(request, f"Imported {report.rows:,} rows: {report.created:,} new, {report.updated:,} updated.")
    return form, report


@tenant_view("metrics.manage")
def revenue(request):
    form = RevenueForm(organization=request.organization)
    import_form, report = ImportForm(), None
    if request.method == "POST" and "file" in request.FILES:
        import_form, report = _import(request, imports.import_revenue)
        if report and report.imported:
            return _go(request, "revenue")
    elif request.method == "POST":
        form = RevenueForm(request.POST, organization=request.organization)
        if form.is_valid():
            try:
                services.save_revenue(
                    organization=request.organization, actor=request.user, request=request, **form.cleaned_data
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, "Revenue saved.")
                return _go(request, "revenue")
    rows = RevenueRecord.objects.for_org(request.organization).select_related("client")
    query = request.GET.get("q", "").strip()
    if query:
        rows = rows.filter(client__name__icontains=query)
    sort = request.GET.get("sort", "-month")
    rows = rows.order_by(sort if sort.lstrip("-") in {"month", "amount", "client__name"} else "-month", "client__name")
    return render(
        request,
        "metrics/revenue.html",
        {"form": form, "import_form": import_form, "report": report, "q": query, **_page(request, rows)},
    )


@require_POST
@tenant_view("metrics.manage")
def revenue_delete(request, pk):
    row = get_object_or_404(RevenueRecord.objects.for_org(request.organization), pk=pk)
    services.delete_revenue(row=row, actor=request.user, request=request)
    messages.success(request, "Revenue figure removed.")
    return _go(request, "revenue")


@tenant_view("dashboards.view")
def revenue_csv(request):
    rows = (
        RevenueRecord.objects.for_org(request.organization)
        .order_by("month", "client__name")
        .values_list("client__name", "month", "amount", "source")
    )
    return csv_response(
        "revenue.csv", ["client", "month", "amount", "source"], ((c, f"{m:%Y-%m}", a, s) for c, m, a, s in rows)
    )


@tenant_view("metrics.manage")
def proposals(request):
    form = ProposalForm(organization=request.organization)
    import_form, report = ImportForm(), None
    if request.method == "POST" and "file" in request.FILES:
        import_form, report = _import(request, imports.import_proposals)
        if report and report.imported:
            return _go(request, "proposals")
    elif request.method == "POST":
        form = ProposalForm(request.POST, organization=request.organization)
        if form.is_valid():
            try:
                services.save_proposal(
                    organization=request.organization, actor=request.user, request=request, **form.cleaned_data
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, "Proposal saved.")
                return _go(request, "proposals")
    rows = ProposalRecord.objects.for_org(request.organization).select_related("client", "unit")
    outcome = request.GET.get("outcome", "")
    if outcome in ProposalRecord.Outcome.values:
        rows = rows.filter(outcome=outcome)
    sort = request.GET.get("sort", "-submitted_on")
    allowed = {"submitted_on", "decided_on", "reference", "value", "outcome"}
    rows = rows.order_by(sort if sort.lstrip("-") in allowed else "-submitted_on", "reference")
    metrics = Metrics(request.organization)
    return render(
        request,
        "metrics/proposals.html",
        {
            "form": form,
            "import_form": import_form,
            "report": report,
            "outcome": outcome,
            "outcomes": ProposalRecord.Outcome.choices,
            "figures": metrics.proposals(Period.last_months(12, metrics.today())),
            **_page(request, rows),
        },
    )


@tenant_view("metrics.manage")
def proposal_edit(request, pk):
    proposal = get_object_or_404(ProposalRecord.objects.for_org(request.organization), pk=pk)
    form = ProposalForm(request.POST or None, instance=proposal, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_proposal(
                organization=request.organization,
                actor=request.user,
                proposal=proposal,
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Proposal saved.")
            return _go(request, "proposals")
    return render(request, "metrics/proposal_form.html", {"form": form, "proposal": proposal})


@require_POST
@tenant_view("metrics.manage")
def proposal_delete(request, pk):
    proposal = get_object_or_404(ProposalRecord.objects.for_org(request.organization), pk=pk)
    services.delete_proposal(proposal=proposal, actor=request.user, request=request)
    messages.success(request, "Proposal removed.")
    return _go(request, "proposals")


@tenant_view("dashboards.view")
def proposals_csv(request):
    rows = (
        ProposalRecord.objects.for_org(request.organization)
        .order_by("submitted_on", "reference")
        .values_list(
            "reference",
            "title",
            "client__name",
            "prospect",
            "unit__name",
            "value",
            "submitted_on",
            "outcome",
            "decided_on",
        )
    )
    return csv_response("proposals.csv", list(imports.PROPOSAL_COLUMNS), rows)


# --- Adoption assessment ---------------------------------------------------------------------------------


@tenant_view("dashboards.view")
def adoption(request):
    metrics = Metrics(request.organization)
    can_manage = request.membership.can("metrics.manage")
    form = AdoptionSurveyForm(request.POST or None, today=metrics.today())
    if request.method == "POST":
        if not can_manage:
            raise Http404
        if form.is_valid():
            try:
                services.open_adoption_survey(
                    organization=request.organization,
                    actor=request.user,
                    quarter=form.cleaned_data["quarter"],
                    closes_on=form.cleaned_data["closes_on"],
                    request=request,
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, "Assessment opened: every member gets a mail with the link.")
                return _go(request, "adoption")
    results = metrics.adoption()
    return render(
        request,
        "metrics/adoption.html",
        {
            "form": form,
            "can_manage": can_manage,
            "results": results,
            "surveys": AdoptionSurvey.objects.for_org(request.organization),
            "invited": metrics.adoption_invited(),
            "figures": {"adoption": adoption_figure(results)} if results["trend"] else {},
        },
    )


@tenant_view("org.view")
def adoption_answer(request, pk):
    survey = get_object_or_404(AdoptionSurvey.objects.for_org(request.organization), pk=pk)
    mine = AdoptionResponse.objects.for_org(request.organization).filter(survey=survey, membership=request.membership)
    answered = mine.filter(submitted_at__isnull=False).exists()
    form = AdoptionAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_adoption(
                survey=survey, membership=request.membership, scores=form.cleaned_data, request=request
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Thank you: your answers are in. Only averages are ever shown.")
            return redirect("org_home", org_slug=request.organization.slug)
    return render(request, "metrics/adoption_answer.html", {"survey": survey, "form": form, "answered": answered})


# --- Board reports ---------------------------------------------------------------------------------------


@tenant_view("reports.view")
def board_reports(request):
    can_manage = request.membership.can("metrics.manage")
    form = BoardReportForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise Http404
        if form.is_valid():
            try:
                report = services.save_board_report(
                    organization=request.organization, actor=request.user, request=request, **form.cleaned_data
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                return _go(request, "board_report", report.pk)
    return render(
        request,
        "metrics/board_reports.html",
        {"reports": BoardReport.objects.for_org(request.organization), "form": form, "can_manage": can_manage},
    )


@tenant_view("reports.view")
def board_report(request, pk):
    report = get_object_or_404(BoardReport.objects.for_org(request.organization), pk=pk)
    can_manage = request.membership.can("metrics.manage")
    form = BoardReportForm(request.POST or None, instance=report)
    if request.method == "POST":
        if not can_manage:
            raise Http404
        if form.is_valid():
            try:
                services.save_board_report(
                    organization=request.organization,
                    actor=request.user,
                    report=report,
                    request=request,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, "Commentary saved.")
                return _go(request, "board_report", report.pk)
    context = reports.board_report_context(report)
    return render(request, "metrics/board_report.html", {**context, "form": form, "can_manage": can_manage})


@tenant_view("reports.view")
def board_report_pdf(request, pk):
    report = get_object_or_404(BoardReport.objects.for_org(request.organization), pk=pk)
    pdf = reports.board_report_pdf(report)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="board-report-{report.period_start:%Y-%m}.pdf"'
    return response


@require_POST
@tenant_view("metrics.manage")
def board_report_mail(request, pk):
    report = get_object_or_404(BoardReport.objects.for_org(request.organization), pk=pk)
    services.queue_board_report_mail(report=report, actor=request.user, request=request)
    messages.success(request, "The report is on its way to the executives.")
    return _go(request, "board_report", report.pk)


# --- Settings ---------------------------------------------------------------------------------------------


@tenant_view("metrics.manage")
def settings(request):
    current = settings_for(request.organization)
    form = SettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_settings(
                organization=request.organization, actor=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Settings saved.")
            return _go(request, "settings")
    return render(
        request, "metrics/settings.html", {"form": form, "freshness": Metrics(request.organization).freshness}
    )


def off_target_items(request) -> list[dict]:
    """Home page: metrics off target or near it (one query, from the stored status)."""
    if not request.membership.can("dashboards.view"):
        return []
    rows = (
        MetricTarget.objects.for_org(request.organization)
        .filter(status__in=[MetricTarget.Status.WARNING, MetricTarget.Status.OFF_TARGET])
        .select_related("unit")
        .order_by("-status", "metric")[:5]
    )
    items = []
    for target in rows:
        metric = target.definition
        where = f" ({target.unit})" if target.unit_id else ""
        items.append(
            {
                "title": f"{metric.label}{where} is {target.get_status_display().lower()}: "
                f"{metric.format(target.last_value)} against {metric.format(target.target)}",
                "detail": metric.definition,  # what the figure counts; the dashboard has the trend
                "url": reverse("metrics:index", args=[request.organization.slug])
                + (f"?unit={target.unit_id}" if target.unit_id else ""),
                "tone": "danger" if target.status == MetricTarget.Status.OFF_TARGET else "warning",
            }
        )
    return items


def adoption_items(request) -> list[dict]:
    """Home page: an open adoption assessment this member has not answered."""
    pending = (
        AdoptionResponse.objects.for_org(request.organization)
        .filter(membership=request.membership, submitted_at__isnull=True)
        .select_related("survey")
        .order_by("-survey__quarter")
        .first()
    )
    if pending is None or not pending.survey.is_open:
        return []
    return [
        {
            "title": f"Answer the CX adoption assessment ({pending.survey.label})",
            "detail": f"Six statements, about two minutes. Open until {pending.survey.closes_on:%-d %B}.",
            "url": reverse("metrics:adoption_answer", args=[request.organization.slug, pending.survey_id]),
            "tone": "info",
        }
    ]
