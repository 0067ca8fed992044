from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cxprogram.audit.selectors import audit_events, audit_verbs
from cxprogram.core.csv import csv_response
from cxprogram.core.forms import apply_errors

from . import services
from .attention import attention_items
from .decorators import tenant_view
from .forms import (
    AuditFilterForm,
    InvitationForm,
    MembershipForm,
    OrganizationCreateForm,
    OrganizationForm,
    UnitForm,
)
from .models import Invitation, Membership, Unit
from .selectors import memberships_of


def home(request):
    """Where "/" and every login lands: the pending invitation, the one organization, the list of
    organizations, or the page to create the first one."""
    if not request.user.is_authenticated:
        return render(request, "tenancy/landing.html")
    pending = request.session.pop("pending_invitation_url", None)
    if pending:
        return redirect(pending)
    memberships = memberships_of(request.user)
    if not memberships:
        return redirect("organization_create")
    if len(memberships) == 1:
        return redirect("org_home", org_slug=memberships[0].organization.slug)
    return redirect("organization_list")


@login_required
def organization_list(request):
    return render(request, "tenancy/organization_list.html", {"memberships": memberships_of(request.user)})


@login_required
def organization_create(request):
    form = OrganizationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.create_organization(
                user=request.user,
                name=form.cleaned_data["name"],
                time_zone=form.cleaned_data["time_zone"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{organization.name} is ready. Invite your colleagues next.")
            return redirect("org_home", org_slug=organization.slug)
    return render(request, "tenancy/organization_create.html", {"form": form})


@tenant_view()
def org_home(request):
    return render(request, "tenancy/org_home.html", {"items": attention_items(request)})


@tenant_view("members.view")
def org_settings(request):
    organization = request.organization
    can_manage = request.membership.can("org.manage")
    form = OrganizationForm(request.POST or None, request.FILES or None, instance=organization) if can_manage else None
    if request.method == "POST":
        if not can_manage:
            return redirect("org_settings", org_slug=organization.slug)
        original_slug = organization.slug
        if form.is_valid():
            changes = {f: form.cleaned_data[f] for f in form.changed_data}
            organization.refresh_from_db()
            try:
                services.update_organization(organization=organization, actor=request.user, request=request, **changes)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, "Organization settings saved.")
                return redirect("org_settings", org_slug=organization.slug)
        organization.slug = original_slug
    return render(request, "tenancy/org_settings.html", {"form": form})


@tenant_view("members.view")
def members(request):
    organization = request.organization
    can_manage = request.membership.can("members.manage")
    form = InvitationForm(request.POST or None, organization=organization) if can_manage else None
    if request.method == "POST":
        if not can_manage:
            return redirect("org_members", org_slug=organization.slug)
        if form.is_valid():
            try:
                invitation = services.invite_member(
                    organization=organization,
                    actor=request.user,
                    email=form.cleaned_data["email"],
                    roles=form.cleaned_data["roles"],
                    unit=form.cleaned_data["unit"],
                    request=request,
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"Invitation sent to {invitation.email}.")
                return redirect("org_members", org_slug=organization.slug)
    query = request.GET.get("q", "").strip()
    member_list = Membership.objects.for_org(organization).select_related("user", "unit", "unit__parent")
    if query:
        member_list = member_list.filter(Q(user__full_name__icontains=query) | Q(user__email__icontains=query))
    invitations = Invitation.objects.for_org(organization).pending().select_related("unit", "invited_by")
    return render(
        request,
        "tenancy/members.html",
        {
            "members": member_list.order_by("-is_active", "user__full_name", "user__email"),
            "invitations": invitations,
            "form": form,
            "can_manage": can_manage,
            "query": query,
        },
    )


@tenant_view("members.manage")
def member_edit(request, pk):
    membership = get_object_or_404(Membership.objects.for_org(request.organization).select_related("user"), pk=pk)
    form = MembershipForm(request.POST or None, instance=membership)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_membership(
                membership=Membership.objects.get(pk=membership.pk),
                actor=request.user,
                roles=form.cleaned_data["roles"],
                unit=form.cleaned_data["unit"],
                title=form.cleaned_data["title"],
                request=request,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{membership.user.display_name}'s membership was updated.")
            return redirect("org_members", org_slug=request.organization.slug)
    return render(request, "tenancy/member_edit.html", {"member": membership, "form": form})


@require_POST
@tenant_view("members.manage")
def member_set_active(request, pk):
    membership = get_object_or_404(Membership.objects.for_org(request.organization).select_related("user"), pk=pk)
    activate = request.POST.get("active") == "1"
    try:
        if activate:
            services.reactivate_member(membership=membership, actor=request.user, request=request)
        else:
            services.deactivate_member(membership=membership, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        verb = "restored" if activate else "deactivated: their access has ended"
        messages.success(request, f"{membership.user.display_name} {verb}.")
    return redirect("org_members", org_slug=request.organization.slug)


@require_POST
@tenant_view("members.manage")
def invitation_action(request, pk, action):
    invitation = get_object_or_404(Invitation.objects.for_org(request.organization), pk=pk)
    service = {"resend": services.resend_invitation, "revoke": services.revoke_invitation}[action]
    try:
        service(invitation=invitation, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        done = "sent again with a new link" if action == "resend" else "revoked"
        messages.success(request, f"The invitation for {invitation.email} was {done}.")
    return redirect("org_members", org_slug=request.organization.slug)


@tenant_view("members.view")
def units(request):
    organization = request.organization
    can_manage = request.membership.can("org.manage")
    form = UnitForm(request.POST or None, organization=organization) if can_manage else None
    if request.method == "POST" and can_manage and form.is_valid():
        try:
            services.save_unit(organization=organization, actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"Unit “{form.cleaned_data['name']}” added.")
            return redirect("org_units", org_slug=organization.slug)
    top_level = Unit.objects.for_org(organization).filter(parent__isnull=True).prefetch_related("children")
    return render(request, "tenancy/units.html", {"units": top_level, "form": form, "can_manage": can_manage})


@tenant_view("org.manage")
def unit_edit(request, pk):
    unit = get_object_or_404(Unit.objects.for_org(request.organization), pk=pk)
    if request.method == "POST" and request.POST.get("delete"):
        try:
            services.delete_unit(unit=unit, actor=request.user, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("org_unit_edit", org_slug=request.organization.slug, pk=unit.pk)
        messages.success(request, f"Unit “{unit.name}” deleted.")
        return redirect("org_units", org_slug=request.organization.slug)
    form = UnitForm(
        request.POST or None,
        organization=request.organization,
        unit=unit,
        initial={"name": unit.name, "parent": unit.parent},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_unit(
                organization=request.organization, actor=request.user, unit=unit, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Unit saved.")
            return redirect("org_units", org_slug=request.organization.slug)
    return render(request, "tenancy/unit_edit.html", {"unit": unit, "form": form})


def _filtered_audit(request):
    organization = request.organization
    form = AuditFilterForm(request.GET or None, organization=organization, verbs=audit_verbs(organization))
    filters = form.cleaned_data if form.is_valid() else {}
    actor = filters.get("actor")
    events = audit_events(
        organization,
        actor_id=actor.user_id if actor else None,
        verb=filters.get("verb"),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    return form, events


@tenant_view("audit.view")
def audit_log(request):
    form, events = _filtered_audit(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "tenancy/audit_log.html", {"form": form, "page": page, "query": query.urlencode()})


@tenant_view("audit.view")
def audit_export(request):
    _, events = _filtered_audit(request)
    rows = (
        (
            e.created_at.isoformat(),
            e.actor_label,
            e.verb,
            e.target_type,
            e.target_id,
            e.target_label,
            e.ip_address or "",
            e.payload,
        )
        for e in events.iterator(chunk_size=2000)
    )
    return csv_response(
        f"audit-{request.organization.slug}.csv",
        ["time", "actor", "verb", "target_type", "target_id", "target", "ip", "payload"],
        rows,
    )


def invitation(request, token):
    """The link from an invitation mail. Anyone may open it; accepting needs an account with the
    invited address (signing up from here counts as verifying it)."""
    from allauth.account.adapter import get_adapter

    found = services.find_invitation(token)
    if found is None or found.status != "pending":
        return render(
            request, "tenancy/invitation_invalid.html", {"invitation": found}, status=404 if found is None else 410
        )
    if not request.user.is_authenticated:
        request.session["pending_invitation_url"] = request.path
        get_adapter(request).stash_verified_email(request, found.email)
        return render(request, "tenancy/invitation.html", {"invitation": found})
    if request.method == "POST":
        try:
            membership = services.accept_invitation(invitation=found, user=request.user, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            request.session.pop("pending_invitation_url", None)
            messages.success(request, f"Welcome to {membership.organization.name}.")
            return redirect("org_home", org_slug=membership.organization.slug)
    return render(request, "tenancy/invitation.html", {"invitation": found})
