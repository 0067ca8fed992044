"""Reads for charter pages and for the metrics app. Aggregates are computed in SQL; the results are
plain dicts so that other apps depend on nothing but this module's functions."""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery

from cxprogram.tenancy.models import Membership, Unit

from .models import Acknowledgment, Callout, Charter, CharterEvent, CharterVersion, SignatureRequest, Signer


def charter_list(organization, *, kind: str = "", query: str = "", sort: str = ""):
    open_versions = CharterVersion.objects.filter(status__in=["draft", "out_for_signature"]).only(
        "pk", "charter_id", "number", "status"
    )
    charters = (
        Charter.objects.for_org(organization)
        .select_related("in_force_version")
        .prefetch_related(Prefetch("versions", queryset=open_versions, to_attr="open_versions"))
    )
    if kind:
        charters = charters.filter(kind=kind)
    if query:
        charters = charters.filter(title__icontains=query)
    allowed = {"title", "-title", "kind", "-kind", "updated_at", "-updated_at"}
    return charters.order_by(sort if sort in allowed else "-updated_at", "pk")


def signers_of(version: CharterVersion) -> list[Signer]:
    """The signers of the version's latest signature request, lead first."""
    signature_request = latest_request(version)
    if signature_request is None:
        return []
    return list(signature_request.signers.select_related("membership__user").order_by("position", "pk"))


def latest_request(version: CharterVersion) -> SignatureRequest | None:
    return version.signature_requests.order_by("-sent_at", "-pk").first()


def trail(charter: Charter, version: CharterVersion | None = None, limit: int = 100) -> list[CharterEvent]:
    events = CharterEvent.objects.for_org(charter.organization_id).filter(charter=charter)
    if version is not None:
        events = events.filter(version=version)
    return list(events.select_related("version").order_by("-created_at", "-id")[:limit])


def awaiting_signature(membership: Membership):
    """The signature requests waiting for this person now."""
    return (
        Signer.objects.for_org(membership.organization_id)
        .filter(membership=membership, status=Signer.Status.PENDING, request__status=SignatureRequest.Status.PENDING)
        .select_related("request__version__charter")
        .order_by("asked_at")
    )


def unacknowledged(membership: Membership):
    """Charters in force that this person has not acknowledged."""
    acknowledged = Acknowledgment.objects.filter(
        version=OuterRef("in_force_version"), membership=membership, acknowledged_at__isnull=False
    )
    return (
        Charter.objects.for_org(membership.organization_id)
        .filter(in_force_version__isnull=False)
        .exclude(Exists(acknowledged))
        .order_by("title")
    )


def acknowledgment_by_unit(charter: Charter) -> list[dict]:
    """For the charter in force: per top-level unit (and "No unit"), active members and how many
    acknowledged. One query."""
    version = charter.in_force_version
    if version is None:
        return []
    acked = Acknowledgment.objects.filter(version=version, membership=OuterRef("pk"), acknowledged_at__isnull=False)
    rows = (
        Membership.objects.for_org(charter.organization_id)
        .active()
        .annotate(acked=Exists(acked))
        .values("unit__parent__name", "unit__name", "unit__parent_id")
        .annotate(members=Count("pk"), acknowledged=Count("pk", filter=Q(acked=True)))
    )
    totals: dict[str, list[int]] = {}
    for row in rows:
        name = (row["unit__parent__name"] if row["unit__parent_id"] else row["unit__name"]) or "No unit"
        total = totals.setdefault(name, [0, 0])
        total[0] += row["members"]
        total[1] += row["acknowledged"]
    result = [
        {"unit": name, "members": m, "acknowledged": a, "rate": round(100 * a / m) if m else 0}
        for name, (m, a) in totals.items()
    ]
    return sorted(result, key=lambda r: (r["unit"] == "No unit", r["unit"]))


def recent_callouts(charter: Charter, limit: int = 10) -> list[Callout]:
    return list(
        Callout.objects.for_org(charter.organization_id)
        .filter(charter=charter)
        .select_related("subject__user", "author__user", "unit")
        .order_by("-created_at", "-id")[:limit]
    )


def acknowledgment_rate(organization, unit: Unit | None = None) -> dict:
    """For the metrics app: how many active members acknowledged the charters in force.

    Returns {"members": n, "acknowledged": n, "rate": 0..1 or None, "charters": n}. With `unit`,
    only members of that unit and its sub-units count. A member counts as having acknowledged when
    they acknowledged every program charter in force (the organization's declaration); with no
    program charter in force, the team charters count instead."""
    in_force = Charter.objects.for_org(organization).filter(in_force_version__isnull=False)
    if in_force.filter(kind=Charter.Kind.PROGRAM).exists():
        in_force = in_force.filter(kind=Charter.Kind.PROGRAM)
    version_ids = list(in_force.values_list("in_force_version_id", flat=True))
    members = Membership.objects.for_org(organization).active()
    if unit is not None:
        members = members.filter(Q(unit=unit) | Q(unit__parent=unit))
    if not version_ids:
        return {"members": members.count(), "acknowledged": 0, "rate": None, "charters": 0}
    acked_count = (
        Acknowledgment.objects.for_org(organization)
        .filter(version_id__in=version_ids, membership=OuterRef("pk"), acknowledged_at__isnull=False)
        .values("membership")
        .annotate(n=Count("pk"))
        .values("n")
    )
    figures = members.annotate(n=Subquery(acked_count)).aggregate(
        members=Count("pk"), acknowledged=Count("pk", filter=Q(n=len(version_ids)))
    )
    total, acked = figures["members"], figures["acknowledged"]
    return {
        "members": total,
        "acknowledged": acked,
        "rate": (acked / total) if total else None,
        "charters": len(version_ids),
    }


def callout_counts(organization, since=None, until=None) -> dict:
    """For the metrics app: call-outs in [since, until), counted in SQL.

    Returns {"total": n, "kudos": n, "flags": n,
             "by_column": [{"column": name, "kudos": n, "flags": n}],
             "by_unit": [{"unit_id": id or None, "unit": name, "kudos": n, "flags": n}]}.
    Units are the top-level unit of the person called out (or of the author when nobody was named)."""
    callouts = Callout.objects.for_org(organization)
    if since is not None:
        callouts = callouts.filter(created_at__gte=since)
    if until is not None:
        callouts = callouts.filter(created_at__lt=until)
    kudos, flags = Q(kind=Callout.Kind.KUDOS), Q(kind=Callout.Kind.FLAG)
    totals = callouts.aggregate(total=Count("pk"), kudos=Count("pk", filter=kudos), flags=Count("pk", filter=flags))
    by_column = [
        {"column": row["column_name"] or "Not in the matrix", "kudos": row["kudos"], "flags": row["flags"]}
        for row in callouts.values("column_name")
        .annotate(kudos=Count("pk", filter=kudos), flags=Count("pk", filter=flags))
        .order_by("column_name")
    ]
    units: dict = {}
    rows = callouts.values("unit_id", "unit__name", "unit__parent_id", "unit__parent__name").annotate(
        kudos=Count("pk", filter=kudos), flags=Count("pk", filter=flags)
    )
    for row in rows:
        top_id = row["unit__parent_id"] or row["unit_id"]
        top_name = row["unit__parent__name"] or row["unit__name"] or "No unit"
        entry = units.setdefault(top_id, {"unit_id": top_id, "unit": top_name, "kudos": 0, "flags": 0})
        entry["kudos"] += row["kudos"]
        entry["flags"] += row["flags"]
    return {
        "total": totals["total"],
        "kudos": totals["kudos"],
        "flags": totals["flags"],
        "by_column": by_column,
        "by_unit": sorted(units.values(), key=lambda r: (r["unit_id"] is None, r["unit"])),
    }
