"""Pages of the initiatives app. Thin: parse a form, call one service, show its errors on the form."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from cxprogram.core.forms import apply_errors
from cxprogram.tenancy.decorators import tenant_view
from feedback.models import FollowUpCase, Response

from . import charts, forms, selectors, services
from .minutes import minutes_context, minutes_pdf
from .models import (
    ActionItem,
    AgendaItem,
    Ballot,
    BoardMember,
    ChecklistItem,
    Criterion,
    Dependency,
    Domain,
    Horizon,
    Initiative,
    Meeting,
    RankingRound,
    Source,
    Stakeholder,
    Status,
    TeamMember,
)


def _initiative(request, pk) -> Initiative:
    return get_object_or_404(Initiative.objects.for_org(request.organization).select_related("owner__user"), pk=pk)


def _detail(initiative) -> str:
    return reverse("initiatives:detail", args=[initiative.organization.slug, initiative.pk])


def _attempt(form, action) -> bool:
    """Run a service call; on a ValidationError show it on the form and say it failed."""
    try:
        action()
    except ValidationError as error:
        apply_errors(form, error)
        return False
    return True


# --- Backlog and ideas -----------------------------------------------------------------------


@tenant_view("initiatives.view")
def index(request):
    organization = request.organization
    params = {k: request.GET.get(k, "").strip() for k in ("q", "status", "horizon", "owner", "domain", "sort")}
    include_closed = request.GET.get("closed") == "1"
    if params["status"] not in Status.values:
        params["status"] = ""
    if params["horizon"] not in Horizon.values:
        params["horizon"] = ""
    for key in ("owner", "domain"):
        if not params[key].isdigit():
            params[key] = ""
    mine = request.GET.get("mine") == "1"
    queryset = selectors.backlog(
        organization, include_closed=include_closed, submitted_by=request.membership if mine else None, **params
    )
    counts = selectors.status_counts(organization)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "initiatives/backlog.html",
        {
            "page": page,
            "params": params,
            "include_closed": include_closed,
            "mine": mine,
            "filtered": any(params[key] for key in ("q", "status", "horizon", "owner", "domain")),
            "query": query.urlencode(),
            "statuses": [(value, label, counts.get(value, 0)) for value, label in Status.choices],
            "horizons": Horizon.choices,
            "owners": forms.members_of(organization),
            "domains": Domain.objects.for_org(organization),
            "program": services.program_for(organization),
        },
    )


def _feedback_prefill(request) -> dict:
    """?response=<id> or ?case=<id> (for people who may read feedback): describe it and link back."""
    organization = request.organization
    if not request.membership.can("feedback.view"):
        return {}
    case_id, response_id = request.GET.get("case", ""), request.GET.get("response", "")
    case = (
        FollowUpCase.objects.for_org(organization).select_related("response").filter(pk=case_id).first()
        if case_id.isdigit()
        else None
    )
    response = case.response if case else None
    if response is None and response_id.isdigit():
        response = Response.objects.for_org(organization).filter(pk=response_id).first()
    if response is None:
        return {}
    response = Response.objects.select_related("client", "project").get(pk=response.pk)
    score = f", scored {response.nps_score}/10" if response.nps_score is not None else ""
    initial = {
        "source": Source.CLIENT_FEEDBACK,
        "response": response.pk,
        "source_reference": f"{response.client} · {response.project}{score}"[:255],
        "description": f"Raised from {response.client}'s feedback on {response.project}{score}.",
    }
    if case:
        initial.update(case=case.pk, description=initial["description"] + f" Follow-up case {case.pk}.")
    return initial


@tenant_view("initiatives.submit")
def idea_new(request):
    """The short idea form. Links may prefill it: ?title=…&description=…&source=…&reference=…, or
    ?response=<id> / ?case=<id> to raise it from client feedback (and link back)."""
    organization = request.organization
    initial = {
        "title": request.GET.get("title", "")[:200],
        "description": request.GET.get("description", "")[:4000],
        "source_reference": request.GET.get("reference", "")[:255],
    }
    if request.GET.get("source") in Source.values:
        initial["source"] = request.GET["source"]
    initial.update(_feedback_prefill(request))
    form = forms.IdeaForm(
        request.POST or None, organization=organization, membership=request.membership, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        result = {}

        def submit():
            result["initiative"] = services.submit_idea(
                organization=organization, actor=request.membership, request=request, **form.cleaned_data
            )

        if _attempt(form, submit):
            initiative = result["initiative"]
            messages.success(request, f"Thank you: your idea is {initiative.code}. The CX team will review it.")
            return redirect(_detail(initiative))
    return render(request, "initiatives/idea_form.html", {"form": form})


# --- One initiative --------------------------------------------------------------------------


@tenant_view("initiatives.view")
def detail(request, pk):
    organization, membership = request.organization, request.membership
    initiative = selectors.initiative_page(organization, pk)
    steer = services.can_steer(membership, initiative)
    score = next(iter(initiative.scores.all()), None)
    transitions = [t for t in services.allowed_transitions(initiative) if t not in services.BOARD_TRANSITIONS]
    context = {
        "initiative": initiative,
        "score": score,
        "steer": steer,
        "manage": membership.can("initiatives.manage"),
        "transitions": transitions,
        "timeline": initiative.timeline.select_related("actor__user")[:50],
        "today": timezone.localdate(timezone=organization.tz),
        "program": services.program_for(organization),
    }
    if steer and not initiative.is_closed:
        context.update(
            checklist_form=forms.ChecklistForm(),
            dependency_form=forms.DependencyForm(organization=organization, initiative=initiative),
            team_form=forms.TeamForm(organization=organization),
            action_form=forms.ActionItemForm(organization=organization, initial={"owner": initiative.owner_id}),
            update_form=forms.UpdateForm(initial={"health": initiative.health}),
        )
    return render(request, "initiatives/detail.html", context)


@tenant_view("initiatives.view")
def edit(request, pk):
    organization = request.organization
    initiative = _initiative(request, pk)
    if not services.can_steer(request.membership, initiative):
        return render(request, "403.html", status=403)
    form = forms.InitiativeForm(
        request.POST or None, organization=organization, initial=forms.InitiativeForm.initial_for(initiative)
    )
    if request.method == "POST" and form.is_valid():
        action = lambda: services.update_initiative(  # noqa: E731
            initiative=initiative, actor=request.membership, request=request, **form.changes()
        )
        if _attempt(form, action):
            messages.success(request, f"{initiative.code} saved.")
            return redirect(_detail(initiative))
    return render(request, "initiatives/edit.html", {"initiative": initiative, "form": form})


TRANSITION_FORMS = {
    "qualify": (
        "Qualify",
        lambda org, i, data: forms.QualifyForm(data, organization=org, initial={"horizon": i.horizon}),
    ),
    "decline": ("Decline", lambda org, i, data: forms.ReasonForm(data)),
    "merge": ("Merge as a duplicate", lambda org, i, data: forms.MergeForm(data, organization=org, initiative=i)),
    "rank": ("Set the priority", lambda org, i, data: forms.RankForm(data, initial={"priority": i.priority})),
    "schedule": (
        "Schedule",
        lambda org, i, data: forms.ScheduleForm(
            data, initial={"target_start": i.target_start, "target_end": i.target_end}
        ),
    ),
    "start": ("Start work", lambda org, i, data: forms.EmptyForm(data)),
    "complete": ("Mark done", lambda org, i, data: forms.EmptyForm(data)),
    "cancel": ("Cancel", lambda org, i, data: forms.ReasonForm(data)),
}
TRANSITION_SERVICES = {
    "qualify": services.qualify,
    "decline": services.decline,
    "merge": services.merge,
    "rank": services.rank,
    "schedule": services.schedule,
    "start": services.start,
    "complete": services.complete,
    "cancel": services.cancel,
}


@tenant_view("initiatives.view")
def transition(request, pk, name):
    """One page per status change: its form on GET, the service on POST (refused moves say why)."""
    initiative = _initiative(request, pk)
    title, make_form = TRANSITION_FORMS[name]
    form = make_form(request.organization, initiative, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        action = lambda: TRANSITION_SERVICES[name](  # noqa: E731
            initiative=initiative, actor=request.membership, request=request, **form.cleaned_data
        )
        if _attempt(form, action):
            initiative.refresh_from_db()
            messages.success(request, f"{initiative.code} is now {initiative.get_status_display().lower()}.")
            return redirect(_detail(initiative))
    return render(
        request, "initiatives/transition.html", {"initiative": initiative, "form": form, "title": title, "name": name}
    )


@tenant_view("initiatives.manage")
def score(request, pk):
    organization = request.organization
    initiative = _initiative(request, pk)
    existing = initiative.scores.prefetch_related("criterion_scores").first()
    initial = {}
    if existing:
        initial = {
            f: getattr(existing, f)
            for f in ("customer_benefit", "business_value", "cost", "effort_days", "confidence", "reach")
        }
        initial["impact"] = str(existing.impact.normalize())
        initial.update({f"criterion_{cs.criterion_id}": cs.value for cs in existing.criterion_scores.all()})
    form = forms.ScoreForm(request.POST or None, organization=organization, initial=initial)
    if request.method == "POST" and form.is_valid():
        action = lambda: services.save_score(  # noqa: E731
            initiative=initiative, actor=request.membership, request=request, **form.values()
        )
        if _attempt(form, action):
            messages.success(request, f"{initiative.code} scored.")
            return redirect(_detail(initiative))
    program = services.program_for(organization)
    return render(
        request,
        "initiatives/score.html",
        {"initiative": initiative, "form": form, "score": existing, "program": program},
    )


def _steer_post(request, initiative, form, action, success: str):
    """POST handler for the small forms of the initiative page: errors come back as messages."""
    if form.is_valid() and _attempt(form, lambda: action(form.cleaned_data)):
        messages.success(request, success)
    else:
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, " ".join(errors) or "Check the form and try again.")
    return redirect(_detail(initiative))


@require_POST
@tenant_view("initiatives.view")
def checklist_add(request, pk):
    initiative = _initiative(request, pk)
    return _steer_post(
        request,
        initiative,
        forms.ChecklistForm(request.POST),
        lambda d: services.add_checklist_item(initiative=initiative, actor=request.membership, request=request, **d),
        "Added to the definition of done.",
    )


@require_POST
@tenant_view("initiatives.view")
def checklist_tick(request, pk):
    item = get_object_or_404(ChecklistItem.objects.for_org(request.organization).select_related("initiative"), pk=pk)
    done = request.POST.get("done") == "1"
    return _steer_post(
        request,
        item.initiative,
        forms.EmptyForm(request.POST),
        lambda d: services.tick_checklist_item(item=item, done=done, actor=request.membership, request=request),
        f"“{item.text}” {'ticked' if done else 'unticked'}.",
    )


@require_POST
@tenant_view("initiatives.view")
def dependency_add(request, pk):
    initiative = _initiative(request, pk)
    form = forms.DependencyForm(request.POST, organization=request.organization, initiative=initiative)
    return _steer_post(
        request,
        initiative,
        form,
        lambda d: services.add_dependency(initiative=initiative, actor=request.membership, request=request, **d),
        "Dependency added.",
    )


@require_POST
@tenant_view("initiatives.view")
def dependency_delete(request, pk):
    dependency = get_object_or_404(
        Dependency.objects.for_org(request.organization).select_related("initiative", "blocker"), pk=pk
    )
    return _steer_post(
        request,
        dependency.initiative,
        forms.EmptyForm(request.POST),
        lambda d: services.remove_dependency(dependency=dependency, actor=request.membership, request=request),
        "Dependency removed.",
    )


@require_POST
@tenant_view("initiatives.view")
def team_add(request, pk):
    initiative = _initiative(request, pk)
    return _steer_post(
        request,
        initiative,
        forms.TeamForm(request.POST, organization=request.organization),
        lambda d: services.add_team_member(initiative=initiative, actor=request.membership, request=request, **d),
        "Added to the team.",
    )


@require_POST
@tenant_view("initiatives.view")
def team_delete(request, pk):
    member = get_object_or_404(TeamMember.objects.for_org(request.organization).select_related("initiative"), pk=pk)
    return _steer_post(
        request,
        member.initiative,
        forms.EmptyForm(request.POST),
        lambda d: services.remove_team_member(member=member, actor=request.membership, request=request),
        "Removed from the team.",
    )


@require_POST
@tenant_view("initiatives.view")
def action_add(request, pk):
    initiative = _initiative(request, pk)
    return _steer_post(
        request,
        initiative,
        forms.ActionItemForm(request.POST, organization=request.organization),
        lambda d: services.add_action_item(initiative=initiative, actor=request.membership, request=request, **d),
        "Action item added.",
    )


@require_POST
@tenant_view("initiatives.view")
def update_post(request, pk):
    initiative = _initiative(request, pk)
    return _steer_post(
        request,
        initiative,
        forms.UpdateForm(request.POST),
        lambda d: services.post_update(initiative=initiative, actor=request.membership, request=request, **d),
        "Weekly update posted.",
    )


# --- Action items ----------------------------------------------------------------------------


@tenant_view("initiatives.view")
def actions(request):
    organization, membership = request.organization, request.membership
    scope = "all" if request.GET.get("scope") == "all" else "mine"
    state = request.GET.get("state") if request.GET.get("state") in ("open", "done", "all") else "open"
    items = selectors.my_action_items(organization, membership, scope=scope, state=state)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "initiatives/actions.html",
        {
            "page": page,
            "scope": scope,
            "state": state,
            "today": timezone.localdate(timezone=organization.tz),
            "query": f"scope={scope}&state={state}",
            "states": ActionItem.State.choices,
        },
    )


@require_POST
@tenant_view("initiatives.view")
def action_status(request, pk):
    item = get_object_or_404(ActionItem.objects.for_org(request.organization).select_related("initiative"), pk=pk)
    try:
        services.set_action_item_status(
            item=item, actor=request.membership, status=request.POST.get("status", ""), request=request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"“{item.title}” is now {item.get_status_display().lower()}.")
    target = request.POST.get("next", "")
    if target.startswith(f"/o/{request.organization.slug}/"):
        return redirect(target)
    return redirect("initiatives:actions", org_slug=request.organization.slug)


# --- Kanban, roadmap, 2×2 --------------------------------------------------------------------

KANBAN_TARGETS = {Status.QUALIFIED, Status.RANKED, Status.SCHEDULED, Status.IN_PROGRESS, Status.DONE}


@tenant_view("initiatives.view")
def kanban(request):
    columns = selectors.kanban(request.organization)
    steer_all = request.membership.can("initiatives.manage")
    for column in columns:
        for card in column["cards"]:
            targets = [services.TRANSITIONS[t][1] for t in services.allowed_transitions(card)]
            card.kanban_targets = [
                (s, Status(s).label)
                for s in targets
                if s in KANBAN_TARGETS and s != card.status and (steer_all or card.owner_id == request.membership.pk)
            ]
    return render(request, "initiatives/kanban.html", {"columns": columns})


@require_POST
@tenant_view("initiatives.view")
def kanban_move(request, pk):
    """Drop a card on a column (htmx) or pick the column in the card's form: the transition's rules decide."""
    initiative = _initiative(request, pk)
    target = request.POST.get("status", "")
    ok, text = True, ""
    if target not in Status.values:
        ok, text = False, "Choose a column."
    else:
        try:
            services.move_to(initiative=initiative, actor=request.membership, status=target, request=request)
        except ValidationError as error:
            ok, text = False, " ".join(error.messages)
        except PermissionDenied:
            ok, text = False, "Only the owner or the CX Center of Excellence can move this initiative."
        else:
            text = f"{initiative.code} moved to {Status(target).label.lower()}."
    if request.htmx:
        response = render(request, "initiatives/_kanban_message.html", {"ok": ok, "text": text})
        if not ok:
            response["HX-Trigger"] = json.dumps({"kanban-refused": {"id": initiative.pk}})
        return response
    (messages.success if ok else messages.error)(request, text)
    return redirect("initiatives:kanban", org_slug=request.organization.slug)


@tenant_view("initiatives.view")
def roadmap(request):
    data = selectors.roadmap(request.organization)
    figure = charts.timeline_figure(data["timeline"]) if data["timeline"]["bars"] else None
    return render(
        request, "initiatives/roadmap.html", {"lanes": data["lanes"], "timeline": data["timeline"], "figure": figure}
    )


@tenant_view("initiatives.view")
def matrix(request):
    data = selectors.matrix_points(request.organization)
    figure = charts.matrix_figure(data) if data["points"] else None
    points = sorted(data["points"], key=lambda p: (p["quadrant"], -p["score"]))
    return render(request, "initiatives/matrix.html", {"data": data, "points": points, "figure": figure})


# --- Settings --------------------------------------------------------------------------------


@tenant_view("initiatives.manage")
def program_settings(request):
    organization, actor = request.organization, request.membership
    program = services.program_for(organization)
    method_form = forms.ScoringMethodForm(initial={"scoring_method": program.scoring_method})
    criterion_form, domain_form = forms.CriterionForm(), forms.DomainForm()
    schedule_form = forms.BoardScheduleForm(instance=program)
    if request.method == "POST":
        which = request.POST.get("form")
        if which == "method":
            method_form = forms.ScoringMethodForm(request.POST)
            form, action = (
                method_form,
                lambda d: services.set_scoring_method(
                    organization=organization, actor=actor, method=d["scoring_method"], request=request
                ),
            )
        elif which == "criterion":
            criterion_form = forms.CriterionForm(request.POST)
            form, action = (
                criterion_form,
                lambda d: services.save_criterion(organization=organization, actor=actor, request=request, **d),
            )
        elif which == "domain":
            domain_form = forms.DomainForm(request.POST)
            form, action = (
                domain_form,
                lambda d: services.save_domain(organization=organization, actor=actor, request=request, **d),
            )
        else:
            schedule_form = forms.BoardScheduleForm(request.POST, instance=services.program_for(organization))
            form, action = (
                schedule_form,
                lambda d: services.set_board_schedule(
                    organization=organization,
                    actor=actor,
                    weekday=d["board_weekday"],
                    week=d["board_week"],
                    at=d["board_time"],
                    lead_days=d["agenda_lead_days"],
                    request=request,
                ),
            )
        if form.is_valid() and _attempt(form, lambda: action(form.cleaned_data)):
            messages.success(request, "Saved.")
            return redirect("initiatives:settings", org_slug=organization.slug)
    return render(
        request,
        "initiatives/settings.html",
        {
            "program": program,
            "method_form": method_form,
            "criterion_form": criterion_form,
            "domain_form": domain_form,
            "schedule_form": schedule_form,
            "criteria": Criterion.objects.for_org(organization),
            "domains": Domain.objects.for_org(organization).annotate(n=Count("initiatives")),
        },
    )


@require_POST
@tenant_view("initiatives.manage")
def criterion_delete(request, pk):
    criterion = get_object_or_404(Criterion.objects.for_org(request.organization), pk=pk)
    try:
        services.delete_criterion(criterion=criterion, actor=request.membership, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Criterion “{criterion.name}” removed; scores were recomputed.")
    return redirect("initiatives:settings", org_slug=request.organization.slug)


# --- Ranking rounds --------------------------------------------------------------------------


@tenant_view("initiatives.view")
def rounds(request):
    organization = request.organization
    mine = Stakeholder.objects.for_org(organization).filter(membership=request.membership).values("round_id")
    voted = Ballot.objects.for_org(organization).filter(membership=request.membership).values("round_id")
    queryset = RankingRound.objects.for_org(organization).annotate(
        n_items=Count("items", distinct=True),
        n_stakeholders=Count("stakeholders", distinct=True),
        n_ballots=Count("ballots", distinct=True),
    )
    queryset = (
        queryset.annotate(is_mine=Count("pk", filter=Q(pk__in=mine)), has_voted=Count("pk", filter=Q(pk__in=voted)))
        .select_related("opened_by__user")
        .order_by("-opened_at")
    )
    page = Paginator(queryset, 30).get_page(request.GET.get("page"))
    return render(request, "initiatives/rounds.html", {"page": page})


@tenant_view("initiatives.manage")
def round_new(request):
    organization = request.organization
    initial = {"closes_at": forms.default_round_close(organization)}
    form = forms.RoundForm(request.POST or None, organization=organization, initial=initial)
    if request.method == "POST" and form.is_valid():
        result = {}

        def open_():
            result["round"] = services.open_round(
                organization=organization, actor=request.membership, request=request, **form.cleaned_data
            )

        if _attempt(form, open_):
            messages.success(request, "The round is open and the stakeholders have been mailed.")
            return redirect("initiatives:round", org_slug=organization.slug, pk=result["round"].pk)
    return render(request, "initiatives/round_form.html", {"form": form})


def _ballot_from_post(post, items: list) -> list[int]:
    """The submitted order: hidden `order` inputs in sequence (drag and drop, or the up/down buttons),
    or the numbered positions typed in without JavaScript."""
    ids = [i.initiative_id for i in items]
    positions = {pk: post.get(f"position_{pk}", "").strip() for pk in ids}
    if any(positions.values()):
        try:
            numbered = {pk: int(value) for pk, value in positions.items()}
        except ValueError:
            raise ValidationError(f"Give each initiative a position: a whole number from 1 to {len(ids)}.") from None
        if sorted(numbered.values()) != list(range(1, len(ids) + 1)):
            raise ValidationError(f"Give each initiative a different position from 1 to {len(ids)}.")
        return sorted(ids, key=lambda pk: numbered[pk])
    return post.getlist("order")


def _apply_move(order: list, move: str) -> list:
    """The no-JavaScript up/down buttons: move one id a place and show the list again."""
    pk, _, direction = move.partition(":")
    order = [str(o) for o in order]
    if pk in order:
        i = order.index(pk)
        j = i - 1 if direction == "up" else i + 1
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
    return order


@tenant_view("initiatives.view")
def round_detail(request, pk):
    organization, membership = request.organization, request.membership
    round_ = get_object_or_404(RankingRound.objects.for_org(organization).select_related("opened_by__user"), pk=pk)
    items = list(round_.items.select_related("initiative__owner__user").order_by("combined_rank", "pk"))
    by_id = {item.initiative_id: item for item in items}
    stakeholders = list(round_.stakeholders.select_related("membership__user"))
    is_stakeholder = any(s.membership_id == membership.pk for s in stakeholders)
    ballots = list(round_.ballots.select_related("membership__user"))
    mine = next((b for b in ballots if b.membership_id == membership.pk), None)
    order = [pk for pk in (mine.order if mine else []) if pk in by_id] or [i.initiative_id for i in items]
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("move"):
                order = [int(o) for o in _apply_move(_ballot_from_post(request.POST, items), request.POST["move"])]
            else:
                services.submit_ballot(
                    round_=round_, actor=membership, order=_ballot_from_post(request.POST, items), request=request
                )
                messages.success(request, "Your ranking is saved. You can change it until the round closes.")
                return redirect("initiatives:round", org_slug=organization.slug, pk=round_.pk)
        except ValidationError as e:
            error = " ".join(e.messages)
        except ValueError:
            error = "Rank every initiative of the round exactly once."
    voted = {b.membership_id for b in ballots}
    context = {
        "round": round_,
        "items": items,
        "ordered": [by_id[pk] for pk in order if pk in by_id],
        "stakeholders": stakeholders,
        "voted": voted,
        "is_stakeholder": is_stakeholder,
        "mine": mine,
        "error": error,
        "manage": membership.can("initiatives.manage"),
        "can_vote": is_stakeholder and round_.is_open and round_.closes_at > timezone.now(),
    }
    if not round_.is_open:
        codes = {item.initiative_id: item.initiative.code for item in items}
        context["ballot_rows"] = [
            {"who": b.membership.user.display_name, "order": [codes.get(pk, "?") for pk in b.order]} for b in ballots
        ]
    return render(request, "initiatives/round.html", context, status=400 if error else 200)


@require_POST
@tenant_view("initiatives.manage")
def round_close(request, pk):
    round_ = get_object_or_404(RankingRound.objects.for_org(request.organization), pk=pk)
    try:
        services.close_round(round_=round_, actor=request.membership, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The round is closed: the combined ranking now sets the priorities.")
    return redirect("initiatives:round", org_slug=request.organization.slug, pk=round_.pk)


# --- The change board ------------------------------------------------------------------------


@tenant_view("initiatives.view")
def board(request):
    organization, membership = request.organization, request.membership
    program = services.program_for(organization)
    manage, executive = membership.can("initiatives.manage"), membership.can("limits.manage")
    members_form = forms.BoardMembersForm(
        organization=organization,
        initial={"members": list(BoardMember.objects.for_org(organization).values_list("membership_id", flat=True))},
    )
    limits_form = forms.LimitsForm(
        initial={
            "capacity_person_days_per_month": program.capacity_person_days_per_month,
            "budget_per_quarter": program.budget_per_quarter,
        }
    )
    if request.method == "POST":
        if request.POST.get("form") == "limits" and executive:
            limits_form = forms.LimitsForm(request.POST)
            form, action = (
                limits_form,
                lambda d: services.set_limits(organization=organization, actor=membership, request=request, **d),
            )
        elif request.POST.get("form") == "members" and manage:
            members_form = forms.BoardMembersForm(request.POST, organization=organization)
            form, action = (
                members_form,
                lambda d: services.set_board_members(
                    organization=organization, actor=membership, memberships=list(d["members"]), request=request
                ),
            )
        else:
            return render(request, "403.html", status=403)
        if form.is_valid() and _attempt(form, lambda: action(form.cleaned_data)):
            messages.success(request, "Saved.")
            return redirect("initiatives:board", org_slug=organization.slug)
    upcoming = services.ensure_next_meeting(organization)
    meetings = (
        Meeting.objects.for_org(organization)
        .annotate(n_decisions=Count("decisions", distinct=True), n_items=Count("agenda", distinct=True))
        .order_by("-scheduled_for")[:24]
    )
    return render(
        request,
        "initiatives/board.html",
        {
            "program": program,
            "usage": selectors.committed(organization, timezone.localdate(timezone=organization.tz), program=program),
            "members": services.board_recipients(organization),
            "members_form": members_form,
            "limits_form": limits_form,
            "manage": manage,
            "executive": executive,
            "upcoming": upcoming,
            "meetings": meetings,
        },
    )


def _meeting(request, pk) -> Meeting:
    return get_object_or_404(Meeting.objects.for_org(request.organization), pk=pk)


@tenant_view("initiatives.view")
def meeting(request, pk):
    organization, membership = request.organization, request.membership
    meeting = _meeting(request, pk)
    decisions = {d.initiative_id: d for d in meeting.decisions.select_related("owner__user", "decided_by__user")}
    agenda = list(
        meeting.agenda.select_related("initiative__owner__user").prefetch_related(Prefetch("initiative__scores"))
    )
    decide = membership.can("board.decide") and not meeting.is_held
    forms_by_item = {}
    posted_item = request.POST.get("item") if request.method == "POST" else None
    for item in agenda:
        item.decision = decisions.get(item.initiative_id)
        item.score = next(iter(item.initiative.scores.all()), None)
        if decide and item.decision is None and item.kind != AgendaItem.Kind.AT_RISK:
            data = request.POST if posted_item == str(item.pk) else None
            initial = {"owner": item.initiative.owner_id, "person_days": item.score.effort_days if item.score else None}
            initial["budget"] = item.score.cost if item.score else None
            forms_by_item[item.pk] = forms.DecisionForm(
                data, organization=organization, prefix=f"i{item.pk}", initial=initial
            )
            item.form = forms_by_item[item.pk]
    if posted_item and posted_item.isdigit() and int(posted_item) in forms_by_item:
        item = next(i for i in agenda if i.pk == int(posted_item))
        form = forms_by_item[item.pk]
        if form.is_valid():
            action = lambda: services.decide(  # noqa: E731
                meeting=meeting, initiative=item.initiative, actor=membership, request=request, **form.cleaned_data
            )
            if _attempt(form, action):
                messages.success(request, f"{item.initiative.code}: decision recorded.")
                return redirect("initiatives:meeting", org_slug=organization.slug, pk=meeting.pk)
    present = list(meeting.attendance.values_list("membership_id", flat=True))
    local_day = timezone.localtime(meeting.scheduled_for, organization.tz).date()
    return render(
        request,
        "initiatives/meeting.html",
        {
            "meeting": meeting,
            "agenda": agenda,
            "decide": decide,
            "present": [m for m in forms.members_of(organization) if m.pk in set(present)],
            "attendance_form": forms.AttendanceForm(
                organization=organization,
                initial={
                    "present": present
                    or list(BoardMember.objects.for_org(organization).values_list("membership_id", flat=True))
                },
            ),
            "close_form": forms.CloseMeetingForm(initial={"notes": meeting.notes}),
            "usage": selectors.committed(organization, local_day),
            "local_time": timezone.localtime(meeting.scheduled_for, organization.tz),
        },
        status=400 if posted_item and request.method == "POST" else 200,
    )


@require_POST
@tenant_view("board.decide")
def meeting_attendance(request, pk):
    meeting = _meeting(request, pk)
    form = forms.AttendanceForm(request.POST, organization=request.organization)
    if form.is_valid():
        try:
            services.record_attendance(
                meeting=meeting, actor=request.membership, present=list(form.cleaned_data["present"]), request=request
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Attendance recorded.")
    else:
        messages.error(request, "Choose the members who are present.")
    return redirect("initiatives:meeting", org_slug=request.organization.slug, pk=meeting.pk)


@require_POST
@tenant_view("board.decide")
def meeting_agenda(request, pk):
    meeting = _meeting(request, pk)
    if meeting.is_held:
        messages.error(request, "This meeting is closed: its agenda no longer changes.")
    else:
        items = services.build_agenda(meeting)
        messages.success(request, f"Agenda rebuilt from the backlog: {len(items)} item(s) added.")
    return redirect("initiatives:meeting", org_slug=request.organization.slug, pk=meeting.pk)


@require_POST
@tenant_view("board.decide")
def meeting_close(request, pk):
    meeting = _meeting(request, pk)
    form = forms.CloseMeetingForm(request.POST)
    notes = form.cleaned_data["notes"] if form.is_valid() else ""
    try:
        services.close_meeting(meeting=meeting, actor=request.membership, notes=notes, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("initiatives:meeting", org_slug=request.organization.slug, pk=meeting.pk)
    messages.success(request, "Meeting closed: the minutes are being mailed to the board and the owners.")
    return redirect("initiatives:minutes", org_slug=request.organization.slug, pk=meeting.pk)


@tenant_view("initiatives.view")
def minutes(request, pk):
    meeting = _meeting(request, pk)
    return render(request, "initiatives/minutes.html", minutes_context(meeting))


@tenant_view("initiatives.view")
def minutes_pdf_view(request, pk):
    meeting = _meeting(request, pk)
    day = timezone.localtime(meeting.scheduled_for, request.organization.tz).date()
    response = HttpResponse(minutes_pdf(meeting), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="minutes-{day}.pdf"'
    return response
