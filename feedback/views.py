from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cxprogram.core.csv import csv_response
from cxprogram.core.forms import apply_errors
from cxprogram.tenancy.decorators import tenant_view
from cxprogram.tenancy.models import Unit

from . import imports, selectors, services
from .forms import (
    BatchForm,
    CaseForm,
    ClientForm,
    ContactForm,
    ImportUploadForm,
    ProjectForm,
    ScheduleForm,
    SettingsForm,
    TemplateVersionForm,
)
from .models import (
    Batch,
    BatchContact,
    Client,
    Contact,
    FollowUpCase,
    ImportJob,
    Project,
    Response,
    SurveyTemplate,
)

PAGE_SIZE = 25


def _page(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"page": page, "query": query.urlencode()}


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _org_row(model, request, value):
    pk = _int(value)
    return model.objects.for_org(request.organization).filter(pk=pk).first() if pk else None


def _go(request, name, *args):
    return redirect(reverse(f"feedback:{name}", args=[request.organization.slug, *args]))


# --- Home ---------------------------------------------------------------------------------------------


@tenant_view("feedback.view")
def index(request):
    home = selectors.pm_home(request.organization, request.membership)
    return render(request, "feedback/index.html", home)


# --- Clients, contacts, projects ----------------------------------------------------------------------


@tenant_view("feedback.view")
def clients(request):
    g = request.GET
    units = Unit.objects.for_org(request.organization).select_related("parent")
    clients = selectors.clients_list(
        request.organization,
        query=g.get("q", "").strip(),
        status=g.get("status", ""),
        unit=_org_row(Unit, request, g.get("unit")),
        sort=g.get("sort", "name"),
    )
    context = {"units": units, "statuses": Client.Status.choices, **_page(request, clients)}
    return render(request, "feedback/clients.html", context)


@tenant_view("feedback.view")
def client_detail(request, pk):
    client = get_object_or_404(
        Client.objects.for_org(request.organization).select_related("unit", "account_owner__user"), pk=pk
    )
    return render(
        request,
        "feedback/client_detail.html",
        {
            "client": client,
            "contacts": client.contacts.order_by("name"),
            "projects": client.projects.select_related("project_manager__user").order_by("-start_date", "code"),
            "history": selectors.client_history(client),
            "account_nps": selectors.account_nps(client),
        },
    )


def _edit(request, form_class, instance, service, template, done):
    form = form_class(request.POST or None, instance=instance, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            saved = service(
                organization=request.organization,
                actor=request.user,
                request=request,
                **{form_class.Meta.model._meta.model_name: instance},
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"“{saved}” saved.")
            return done(saved)
    return render(request, template, {"form": form, "object": instance})


@tenant_view("feedback.manage")
def client_edit(request, pk=None):
    instance = get_object_or_404(Client.objects.for_org(request.organization), pk=pk) if pk else None
    return _edit(
        request,
        ClientForm,
        instance,
        services.save_client,
        "feedback/client_form.html",
        lambda c: _go(request, "client_detail", c.pk),
    )


@tenant_view("feedback.view")
def contacts(request):
    g = request.GET
    contacts = selectors.contacts_list(
        request.organization,
        query=g.get("q", "").strip(),
        kind=g.get("kind", ""),
        client=_org_row(Client, request, g.get("client")),
        mailable=g.get("mailable", ""),
        sort=g.get("sort", "name"),
    )
    return render(request, "feedback/contacts.html", {"kinds": Contact.Kind.choices, **_page(request, contacts)})


@tenant_view("feedback.manage")
def contact_edit(request, pk=None):
    instance = get_object_or_404(Contact.objects.for_org(request.organization), pk=pk) if pk else None
    return _edit(
        request,
        ContactForm,
        instance,
        services.save_contact,
        "feedback/contact_form.html",
        lambda c: _go(request, "client_detail", c.client_id),
    )


@require_POST
@tenant_view("feedback.manage")
def contact_restore(request, pk):
    contact = get_object_or_404(Contact.objects.for_org(request.organization), pk=pk)
    services.restore_contact(contact=contact, actor=request.user, request=request)
    messages.success(request, f"{contact.name} can receive feedback requests again.")
    return _go(request, "client_detail", contact.client_id)


@tenant_view("feedback.view")
def projects(request):
    g = request.GET
    projects = selectors.projects_list(
        request.organization,
        query=g.get("q", "").strip(),
        status=g.get("status", ""),
        phase=g.get("phase", ""),
        project_manager=request.membership if g.get("mine") else None,
        unit=_org_row(Unit, request, g.get("unit")),
        sort=g.get("sort", "code"),
    )
    context = {
        "statuses": Project.Status.choices,
        "phases": Project.Phase.choices,
        "units": Unit.objects.for_org(request.organization),
        **_page(request, projects),
    }
    return render(request, "feedback/projects.html", context)


@tenant_view("feedback.manage")
def project_edit(request, pk=None):
    instance = get_object_or_404(Project.objects.for_org(request.organization), pk=pk) if pk else None
    return _edit(
        request,
        ProjectForm,
        instance,
        services.save_project,
        "feedback/project_form.html",
        lambda p: _go(request, "projects"),
    )


# --- CSV import ---------------------------------------------------------------------------------------


@tenant_view("feedback.manage")
def import_list(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.upload(
                organization=request.organization,
                actor=request.user,
                kind=form.cleaned_data["kind"],
                uploaded=form.cleaned_data["file"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            return _go(request, "import_detail", job.pk)
    jobs = ImportJob.objects.for_org(request.organization).defer("content")[:20]
    kinds = [{"kind": k, "label": label, "fields": imports.FIELDS[k]} for k, label in ImportJob.Kind.choices]
    return render(request, "feedback/imports.html", {"form": form, "jobs": jobs, "kinds": kinds})


@tenant_view("feedback.manage")
def import_example(request, kind):
    if kind not in imports.FIELDS:
        raise Http404
    header, row = imports.example(kind)
    return csv_response(f"{kind}-example.csv", header, [row])


@tenant_view("feedback.manage")
def import_detail(request, pk):
    job = get_object_or_404(ImportJob.objects.for_org(request.organization), pk=pk)
    fields = imports.FIELDS[job.kind]
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "validate":
                mapping = {f: request.POST.get(f"map_{f}", "") for f in fields}
                imports.validate(job=job, mapping=mapping, actor=request.user)
            elif action == "import":
                imports.start_import(job=job, actor=request.user, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return _go(request, "import_detail", job.pk)
    return render(
        request,
        "feedback/import_detail.html",
        {
            "job": job,
            "fields": [(f, spec, job.mapping.get(f) or imports.guess(job.header, f)) for f, spec in fields.items()],
            "preview": imports.preview_rows(job),
            "report": job.report[:200],
        },
    )


@tenant_view("feedback.manage")
def import_progress(request, pk):
    job = get_object_or_404(ImportJob.objects.for_org(request.organization).defer("content"), pk=pk)
    job.processed_rows = imports.progress(job)
    response = render(request, "feedback/_import_progress.html", {"job": job})
    if job.state != ImportJob.State.IMPORTING and request.htmx:
        response["HX-Refresh"] = "true"
    return response


# --- Templates ----------------------------------------------------------------------------------------


@tenant_view("feedback.view")
def templates(request):
    services.default_template(request.organization, request.user)
    found = SurveyTemplate.objects.for_org(request.organization).select_related("current_version")
    return render(request, "feedback/templates.html", {"templates": found})


@tenant_view("feedback.view")
def template_detail(request, pk):
    template = get_object_or_404(
        SurveyTemplate.objects.for_org(request.organization).select_related("current_version"), pk=pk
    )
    can_edit = request.membership.can("feedback.manage")
    form = None
    if can_edit:
        import json

        form = TemplateVersionForm(
            request.POST or None,
            initial={"questions": json.dumps(template.current_version.questions, indent=2, ensure_ascii=False)},
        )
        if request.method == "POST" and form.is_valid():
            try:
                version = services.add_template_version(
                    template=template, actor=request.user, questions=form.cleaned_data["questions"], request=request
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"Version {version.number} saved; new batches use it.")
                return _go(request, "template_detail", template.pk)
    return render(
        request,
        "feedback/template_detail.html",
        {"template": template, "versions": template.versions.all(), "form": form},
    )


# --- Batches ------------------------------------------------------------------------------------------


@tenant_view("feedback.view")
def batches(request):
    batches = selectors.batches_list(request.organization, state=request.GET.get("state", ""))
    return render(request, "feedback/batches.html", {"states": Batch.State.choices, **_page(request, batches)})


@tenant_view("feedback.send")
def batch_new(request):
    organization = request.organization
    services.default_template(organization, request.user)
    data = request.POST if request.method == "POST" else None
    project_ids = (data or request.GET).getlist("projects")
    form = BatchForm(data, organization=organization, membership=request.membership, project_ids=project_ids)
    if not data:
        form.initial["template"] = SurveyTemplate.objects.for_org(organization).filter(is_default=True).first()
        form.initial["projects"] = project_ids
        form.initial["contacts"] = [c.pk for c in form.fields["contacts"].queryset if c.mailable]
    if data and form.is_valid():
        try:
            batch = services.create_batch(
                organization=organization,
                actor=request.user,
                sender=request.membership,
                projects=list(form.cleaned_data["projects"]),
                contacts=list(form.cleaned_data["contacts"]),
                template_version=form.cleaned_data["template"].current_version,
                personal_message=form.cleaned_data["personal_message"],
                reply_to=form.cleaned_data["reply_to"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Draft saved. Check who will be skipped, then send or schedule it.")
            return _go(request, "batch_detail", batch.pk)
    return render(request, "feedback/batch_new.html", {"form": form, "project_ids": project_ids})


def _batch(request, pk):
    return get_object_or_404(
        Batch.objects.for_org(request.organization).select_related(
            "sender__user", "template_version__template", "organization"
        ),
        pk=pk,
    )


@tenant_view("feedback.view")
def batch_detail(request, pk):
    batch = _batch(request, pk)
    planned = batch.state in (Batch.State.DRAFT, Batch.State.SCHEDULED)
    recipients = (
        BatchContact.objects.filter(batch=batch)
        .select_related("contact__client", "project")
        .order_by("contact__name", "pk")
    )
    listed = _page(request, recipients)
    shown = list(listed["page"].object_list)
    reasons = services.skip_reasons(batch) if planned else None
    labels = dict(BatchContact.SkipReason.choices)
    statuses = {} if planned else selectors.recipients(batch, [bc.contact_id for bc in shown])
    rows = [
        (
            bc,
            labels.get(reasons.get(bc.contact_id, "") if reasons is not None else bc.skip_reason, ""),
            statuses.get(bc.contact_id),
        )
        for bc in shown
    ]
    skipped = len(reasons) if reasons is not None else recipients.exclude(skip_reason="").count()
    return render(
        request,
        "feedback/batch_detail.html",
        {
            "batch": batch,
            **listed,
            "rows": rows,
            "planned": planned,
            "skipped": skipped,
            "progress": selectors.batch_progress(batch),
            "schedule_form": ScheduleForm(tz=request.organization.tz),
            "can_send": request.membership.can("feedback.send"),
            "projects": batch.projects.all(),
        },
    )


@tenant_view("feedback.view")
def batch_progress(request, pk):
    batch = _batch(request, pk)
    return render(
        request, "feedback/_batch_progress.html", {"batch": batch, "progress": selectors.batch_progress(batch)}
    )


def _batch_action(request, pk, service, success):
    batch = _batch(request, pk)
    try:
        service(batch=batch, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)
    return _go(request, "batch_detail", batch.pk)


@require_POST
@tenant_view("feedback.send")
def batch_send(request, pk):
    return _batch_action(request, pk, services.send_batch_now, "Sending now. Progress shows below.")


@require_POST
@tenant_view("feedback.send")
def batch_cancel(request, pk):
    return _batch_action(request, pk, services.cancel_batch, "Batch cancelled; nothing was sent.")


@require_POST
@tenant_view("feedback.send")
def batch_close(request, pk):
    return _batch_action(request, pk, services.close_batch, "Batch closed: no more reminders.")


@require_POST
@tenant_view("feedback.send")
def batch_schedule(request, pk):
    batch = _batch(request, pk)
    form = ScheduleForm(request.POST, tz=request.organization.tz)
    if form.is_valid():
        try:
            services.schedule_batch(
                batch=batch, actor=request.user, send_at=form.cleaned_data["send_at"], request=request
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Batch scheduled.")
    else:
        messages.error(request, "Enter a date and time to send at.")
    return _go(request, "batch_detail", batch.pk)


# --- Responses and cases ------------------------------------------------------------------------------


@tenant_view("feedback.view")
def responses(request):
    g = request.GET
    try:
        responses = selectors.responses_list(
            request.organization,
            date_from=g.get("from") or None,
            date_to=g.get("to") or None,
            client=_org_row(Client, request, g.get("client")),
            project=_org_row(Project, request, g.get("project")),
            score_min=_int(g.get("score_min")),
            score_max=_int(g.get("score_max")),
            project_manager=request.membership if g.get("mine") else None,
            query=g.get("q", "").strip(),
            sort=g.get("sort", "-submitted_at"),
        )
        context = _page(request, responses)
        list(context["page"].object_list)
    except ValidationError:  # a malformed date
        messages.error(request, "Use dates like 2026-01-31.")
        context = _page(request, Response.objects.none())
    return render(request, "feedback/responses.html", context)


@tenant_view("feedback.view")
def response_detail(request, pk):
    response = get_object_or_404(
        Response.objects.for_org(request.organization).select_related(
            "contact", "client", "project", "project_manager__user", "template_version", "thank_you_approved_by__user"
        ),
        pk=pk,
    )
    case = FollowUpCase.objects.filter(response=response).first()
    return render(
        request,
        "feedback/response_detail.html",
        {
            "response": response,
            "answers": services.answer_lines(response),
            "case": case,
            "can_thank": services.can_approve_thank_you(response, request.membership),
        },
    )


@require_POST
@tenant_view("feedback.send")
def response_thank(request, pk):
    response = get_object_or_404(Response.objects.for_org(request.organization), pk=pk)
    try:
        services.approve_thank_you(response=response, actor_membership=request.membership, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Thank-you mail on its way to {response.contact.name}.")
    return _go(request, "response_detail", response.pk)


@tenant_view("cases.view")
def cases(request):
    g = request.GET
    organization = request.organization
    state = g.get("state", "active")
    found = selectors.cases_list(
        organization,
        state=state if state in {"active", *FollowUpCase.State.values} else "",
        owner=request.membership if g.get("mine") else None,
        overdue=bool(g.get("overdue")),
        unit=_org_row(Unit, request, g.get("unit")),
        root_cause=g.get("root_cause", ""),
        sort=g.get("sort", "due_at"),
    )
    now = timezone.now()
    sla = selectors.cases_closed_within_sla(organization, now - timedelta(days=90), now)
    context = {
        "states": FollowUpCase.State.choices,
        "root_causes": FollowUpCase.RootCause.choices,
        "units": Unit.objects.for_org(organization),
        "state": state,
        "sla": sla,
        "sla_percent": round(100 * sla["share"]) if sla["share"] is not None else None,
        **_page(request, found),
    }
    return render(request, "feedback/cases.html", context)


@tenant_view("cases.view")
def case_detail(request, pk):
    case = get_object_or_404(
        FollowUpCase.objects.for_org(request.organization).select_related(
            "client", "project", "owner__user", "response__contact", "response__template_version", "escalated_to__user"
        ),
        pk=pk,
    )
    can_manage = request.membership.can("cases.manage")
    form = CaseForm(request.POST or None, instance=case, organization=request.organization) if can_manage else None
    if request.method == "POST" and can_manage and form.is_valid():
        try:
            services.update_case(
                case=FollowUpCase.objects.get(pk=case.pk), actor=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Case saved.")
            return _go(request, "case_detail", case.pk)
    return render(
        request,
        "feedback/case_detail.html",
        {"case": case, "form": form, "answers": services.answer_lines(case.response)},
    )


@tenant_view("feedback.manage")
def settings_view(request):
    current = services.feedback_settings(request.organization)
    form = SettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_settings(
                organization=request.organization, actor=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Feedback settings saved.")
            return _go(request, "settings")
    return render(request, "feedback/settings.html", {"form": form})
