from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cxprogram.core.forms import apply_errors
from cxprogram.tenancy.decorators import tenant_view

from . import content as doc
from . import selectors, services
from .forms import CalloutForm, CharterCreateForm, DraftEditor, ReasonForm, SendForm, SettingsForm, SignForm
from .models import Acknowledgment, Charter, CharterVersion, SignatureRequest, Signer


def _charter(request, pk) -> Charter:
    return get_object_or_404(
        Charter.objects.for_org(request.organization).select_related("in_force_version", "organization"), pk=pk
    )


def _version(request, pk) -> CharterVersion:
    return get_object_or_404(
        CharterVersion.objects.for_org(request.organization).select_related(
            "charter", "organization", "updated_by", "charter__in_force_version"
        ),
        pk=pk,
    )


def document_of(version: CharterVersion, *, title=None, content=None) -> dict:
    return doc.build_document(
        kind=version.charter.kind,
        number=version.number,
        title=version.title if title is None else title,
        content=version.content if content is None else content,
        matrix=version.matrix,
    )


@tenant_view("charter.view")
def index(request):
    organization = request.organization
    kind = request.GET.get("kind", "")
    kind = kind if kind in Charter.Kind.values else ""
    query = request.GET.get("q", "").strip()[:100]
    charters = selectors.charter_list(organization, kind=kind, query=query, sort=request.GET.get("sort", ""))
    can_edit = request.membership.can("charter.edit")
    return render(
        request,
        "charters/index.html",
        {
            "charters": charters,
            "kind": kind,
            "kinds": Charter.Kind.choices,
            "query": query,
            "can_edit": can_edit,
            "form": CharterCreateForm() if can_edit else None,
            "awaiting": list(selectors.awaiting_signature(request.membership)),
        },
    )


@tenant_view("charter.edit")
def create(request):
    form = CharterCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.create_charter(
                organization=request.organization,
                actor=request.user,
                title=form.cleaned_data["title"],
                kind=form.cleaned_data["kind"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Charter created. Each section shows what it is for; write what applies.")
            return redirect("charters:edit", request.organization.slug, version.pk)
    return render(request, "charters/create.html", {"form": form})


@tenant_view("charter.edit")
def charter_settings(request):
    settings = services.settings_for(request.organization)
    form = SettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_settings(
                organization=request.organization,
                actor=request.user,
                reminder_interval_days=form.cleaned_data["reminder_interval_days"],
                expiry_days=form.cleaned_data["expiry_days"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Signing settings saved. They apply to requests sent from now on.")
            return redirect("charters:index", request.organization.slug)
    return render(request, "charters/settings.html", {"form": form})


@tenant_view("charter.view")
def detail(request, pk):
    charter = _charter(request, pk)
    membership = request.membership
    published = charter.in_force_version
    open_version = services.open_version(charter)
    context = {"charter": charter, "published": published, "open_version": open_version}
    if published is not None:
        services.record_view(version=published, actor=request.user, request=request)
        ack = Acknowledgment.objects.for_org(request.organization).filter(version=published, membership=membership)
        context.update(
            document=document_of(published),
            signers=selectors.signers_of(published),
            acknowledged=ack.filter(acknowledged_at__isnull=False).first(),
            ack_by_unit=selectors.acknowledgment_by_unit(charter),
            callouts=selectors.recent_callouts(charter),
            callout_form=CalloutForm(organization=request.organization, matrix=published.matrix),
        )
    if open_version is not None and open_version.status == CharterVersion.Status.OUT_FOR_SIGNATURE:
        context["pending_request"] = selectors.latest_request(open_version)
        context["pending_signers"] = selectors.signers_of(open_version)
        context["void_form"] = ReasonForm()
    if published is None and open_version is not None:
        context["draft_document"] = document_of(open_version)
    return render(request, "charters/detail.html", context)


@tenant_view("charter.view")
def history(request, pk):
    charter = _charter(request, pk)
    versions = list(
        CharterVersion.objects.for_org(request.organization)
        .filter(charter=charter)
        .select_related("created_by")
        .order_by("-number")
    )
    return render(
        request,
        "charters/history.html",
        {"charter": charter, "versions": versions, "events": selectors.trail(charter, limit=200)},
    )


@tenant_view("charter.view")
def diff(request, pk):
    charter = _charter(request, pk)
    versions = list(CharterVersion.objects.for_org(request.organization).filter(charter=charter).order_by("-number"))
    by_id = {v.pk: v for v in versions}

    def pick(name, default):
        try:
            return by_id.get(int(request.GET.get(name, "")), default)
        except ValueError:
            return default

    new = pick("b", versions[0])
    old = pick("a", versions[1] if len(versions) > 1 else versions[0])
    return render(
        request,
        "charters/diff.html",
        {
            "charter": charter,
            "versions": versions,
            "old": old,
            "new": new,
            "parts": doc.version_diff(charter.kind, old, new),
        },
    )


@tenant_view("charter.view")
def version_detail(request, pk):
    version = _version(request, pk)
    return render(
        request,
        "charters/version.html",
        {
            "version": version,
            "charter": version.charter,
            "document": document_of(version),
            "signers": selectors.signers_of(version) if version.is_frozen else [],
        },
    )


@tenant_view("charter.edit")
def edit(request, pk):
    version = _version(request, pk)
    if not version.is_draft:
        messages.info(request, f"Version {version.number} is {version.get_status_display().lower()}; it cannot change.")
        return redirect("charters:version", request.organization.slug, version.pk)
    editor = DraftEditor(version, request.POST or None)
    status = 200
    if request.method == "POST":
        if editor.is_valid():
            try:
                services.save_draft(
                    version=version,
                    actor=request.user,
                    revision=editor.form.cleaned_data["revision"],
                    title=editor.form.cleaned_data["title"],
                    content=editor.content(),
                    base=editor.base(),
                    request=request,
                )
            except ValidationError as error:
                editor.apply_errors(error)
                status = 400
                if isinstance(error, services.DraftConflict):
                    status = 409
                    editor.form.add_error(
                        None,
                        "Your text is still in the form below. Open the latest draft in another tab, bring your "
                        "changes over, and save again.",
                    )
            else:
                messages.success(request, "Draft saved.")
                return redirect("charters:edit", request.organization.slug, version.pk)
        else:
            status = 400
    return render(
        request,
        "charters/edit.html",
        {"version": version, "charter": version.charter, "editor": editor, "matrix": version.matrix},
        status=status,
    )


@tenant_view("charter.edit")
@require_POST
def preview(request, pk):
    version = _version(request, pk)
    editor = DraftEditor(version, request.POST)
    error = None
    document = None
    if editor.is_valid():
        try:
            content = doc.normalize_content(version.charter.kind, editor.content())
            document = document_of(version, title=editor.form.cleaned_data["title"], content=content)
        except ValidationError as e:
            error = "; ".join(e.messages)
    else:
        error = "Some fields need attention; the preview shows the last saved draft."
        document = document_of(version)
    return render(request, "charters/_preview.html", {"document": document, "error": error})


MATRIX_FIELDS = ("column", "behavior", "name", "text", "direction", "previous")


@tenant_view("charter.edit")
@require_POST
def matrix_edit(request, pk):
    version = _version(request, pk)
    operation = request.POST.get("op", "")
    args = {f: request.POST[f] for f in MATRIX_FIELDS if f in request.POST}
    error = None
    try:
        version = services.change_matrix(
            version=version, actor=request.user, operation=operation, args=args, request=request
        )
    except ValidationError as e:
        error = " ".join(e.messages)
        version.refresh_from_db()
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("charters:edit", request.organization.slug, version.pk)
    response = render(
        request,
        "charters/_matrix_editor.html",
        {"version": version, "matrix": version.matrix, "error": error},
        status=200,
    )
    response["HX-Trigger"] = "matrix-changed"
    return response


@tenant_view("charter.edit")
def send(request, pk):
    version = _version(request, pk)
    if not version.is_draft:
        messages.info(request, f"Version {version.number} is {version.get_status_display().lower()} already.")
        return redirect("charters:detail", request.organization.slug, version.charter_id)
    form = SendForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.send_for_signature(
                version=version,
                actor=request.user,
                lead=form.cleaned_data["lead"],
                supporters=list(form.cleaned_data["supporters"]),
                message=form.cleaned_data["message"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request,
                f"Sent to {form.cleaned_data['lead'].user.display_name}. Supporting executives are asked once the "
                "lead has signed.",
            )
            return redirect("charters:detail", request.organization.slug, version.charter_id)
    return render(
        request,
        "charters/send.html",
        {
            "version": version,
            "charter": version.charter,
            "form": form,
            "empty": doc.is_empty(version.content, version.matrix),
            "settings": services.settings_for(request.organization),
        },
    )


@tenant_view("charter.edit")
@require_POST
def discard(request, pk):
    version = _version(request, pk)
    try:
        services.discard_draft(version=version, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Draft version {version.number} discarded.")
    return redirect("charters:detail", request.organization.slug, version.charter_id)


@tenant_view("charter.edit")
@require_POST
def delete(request, pk):
    charter = _charter(request, pk)
    try:
        services.delete_charter(charter=charter, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("charters:detail", request.organization.slug, charter.pk)
    messages.success(request, f"“{charter.title}” deleted.")
    return redirect("charters:index", request.organization.slug)


@tenant_view("charter.edit")
@require_POST
def amend(request, pk):
    charter = _charter(request, pk)
    try:
        version = services.start_amendment(charter=charter, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("charters:detail", request.organization.slug, charter.pk)
    messages.success(
        request,
        f"Version {version.number} started from the charter in force. It stays in force until this one is signed.",
    )
    return redirect("charters:edit", request.organization.slug, version.pk)


@tenant_view("charter.edit")
@require_POST
def void(request, pk):
    signature_request = get_object_or_404(
        SignatureRequest.objects.for_org(request.organization).select_related("version__charter"), pk=pk
    )
    form = ReasonForm(request.POST)
    charter_id = signature_request.version.charter_id
    if not form.is_valid():
        messages.error(request, "Give a reason to void the request.")
        return redirect("charters:detail", request.organization.slug, charter_id)
    try:
        draft = services.void(
            signature_request=signature_request, actor=request.user, reason=form.cleaned_data["reason"], request=request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("charters:detail", request.organization.slug, charter_id)
    messages.success(request, f"Request voided. Version {draft.number} is a new draft with the same content.")
    return redirect("charters:edit", request.organization.slug, draft.pk)


@tenant_view("charter.view")
def verify(request, pk):
    version = _version(request, pk)
    if not version.is_frozen:
        messages.info(request, "Drafts are not signed yet, so there is nothing to verify.")
        return redirect("charters:version", request.organization.slug, version.pk)
    result = services.record_verification(version=version, actor=request.user, request=request)
    return render(
        request,
        "charters/verify.html",
        {"version": version, "charter": version.charter, "result": result, "signers": selectors.signers_of(version)},
    )


@tenant_view("charter.view")
def pdf(request, pk):
    version = _version(request, pk)
    try:
        version = services.ensure_pdf(version)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("charters:version", request.organization.slug, version.pk)
    services.record_download(version=version, actor=request.user, request=request)
    response = FileResponse(
        version.pdf.open("rb"),
        as_attachment=True,
        filename=f"charter-{version.charter_id}-v{version.number}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-SHA256"] = version.pdf_sha256
    return response


@tenant_view("charter.view")
@require_POST
def acknowledge(request, pk):
    charter = _charter(request, pk)
    try:
        services.acknowledge(charter=charter, membership=request.membership, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Thank you. Your acknowledgment is recorded.")
    return redirect("charters:detail", request.organization.slug, charter.pk)


@tenant_view("charter.callout")
@require_POST
def callout(request, pk):
    charter = _charter(request, pk)
    if charter.in_force_version is None:
        messages.error(request, "Call-outs refer to the charter in force; this one is not in force yet.")
        return redirect("charters:detail", request.organization.slug, charter.pk)
    form = CalloutForm(request.POST, organization=request.organization, matrix=charter.in_force_version.matrix)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_callout(
                charter=charter,
                author=request.membership,
                kind=data["kind"],
                note=data["note"],
                behavior_key=data["behavior"],
                column_key=data["column"],
                subject=data["subject"],
                client_or_project=data["client_or_project"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Call-out recorded. Thank you for keeping the charter alive.")
            return redirect("charters:detail", request.organization.slug, charter.pk)
    return render(request, "charters/callout_form.html", {"charter": charter, "callout_form": form}, status=400)


def _signer(request, pk) -> Signer:
    signer = get_object_or_404(
        Signer.objects.for_org(request.organization).select_related(
            "membership__user", "request__version__charter", "request__version__organization"
        ),
        pk=pk,
    )
    if signer.membership_id != request.membership.pk:
        raise PermissionDenied("This signature was requested from someone else.")
    return signer


@tenant_view("charter.view")
def sign(request, pk):
    signer = _signer(request, pk)
    reason = services.blocked_reason(signer)
    if reason:
        # Nothing to sign (signed already, the lead signs first, or the request stopped): say why.
        version = signer.request.version
        signed = signer.status == Signer.Status.SIGNED
        return render(
            request,
            "charters/sign_status.html",
            {"signer": signer, "version": version, "charter": version.charter, "reason": reason},
            status=200 if request.method == "GET" or signed else 409,
        )
    return _sign_page(request, signer)


@reauthentication_required
def _sign_page(request, signer: Signer):
    version = signer.request.version
    form = SignForm(request.POST or None)
    if request.method == "GET":
        services.record_opened(signer=signer, user=request.user, request=request)
    elif form.is_valid():
        data = form.cleaned_data
        try:
            services.sign(
                signer=signer,
                user=request.user,
                consent=data["consent"],
                method=data["method"],
                typed_name=data["typed_name"],
                strokes=data["strokes"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Thank you: your signature is recorded.")
            return redirect("charters:detail", request.organization.slug, version.charter_id)
    signers = selectors.signers_of(version)
    return render(
        request,
        "charters/sign.html",
        {
            "signer": signer,
            "version": version,
            "charter": version.charter,
            "document": document_of(version),
            "signers": signers,
            "form": form,
            "decline_form": ReasonForm(),
            "consent_text": services.consent_text(version),
        },
        status=400 if form.errors else 200,
    )


@tenant_view("charter.view")
@require_POST
def decline(request, pk):
    signer = _signer(request, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why you decline, so the editors know what to change.")
        return redirect("charters:sign", request.organization.slug, signer.pk)
    try:
        services.decline(signer=signer, user=request.user, reason=form.cleaned_data["reason"], request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("charters:sign", request.organization.slug, signer.pk)
    messages.success(request, "You declined. The editors have your reason and will prepare a new draft.")
    return redirect("charters:detail", request.organization.slug, signer.request.version.charter_id)
