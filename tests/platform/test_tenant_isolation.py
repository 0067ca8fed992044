"""Tenancy, proven for every URL and every model, including those later apps add.

The URL walk: a victim organization holds at least one row of every tenant model. For every URL
pattern under /o/<org_slug>/ and /api/v1/orgs/<org_slug>/ that takes an object id, an outsider (admin
of another organization) gets 404, both with the victim's slug and with their own slug plus the
victim's object ids; anonymous callers are sent to log in (pages) or get 401 (API).
"""

import pytest
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cxprogram.tenancy.models import TenantModel
from cxprogram.tenancy.rls import tenant_models
from tests.conftest import client_for
from tests.factories import make_org, populate_organization

pytestmark = pytest.mark.django_db


def url_patterns(resolver=None, prefix_params=()):
    """Every named URL pattern with the names of all its parameters (its own and its prefixes')."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        params = tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            namespace = f"{entry.namespace}:" if entry.namespace else ""
            for name, all_params in url_patterns(entry, prefix_params + params):
                yield (namespace + name if name else None), all_params
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name, prefix_params + params


def tenant_object_urls():
    seen = set()
    for name, params in url_patterns():
        if name and "org_slug" in params and len(params) > 1 and name not in seen:
            seen.add(name)
            yield name, [p for p in params if p != "org_slug"]


@pytest.fixture
def victim():
    organization = make_org("Victim Ltd", slug="victim")
    populate_organization(organization, owner_name="Vera Victim")
    return organization


def victim_ids(victim, outsider_org) -> list[int]:
    """One id per tenant model of the victim (its newest row), leaving out ids that also name a row
    of the outsider's organization in any tenant table, so that a non-404 can only be a leak."""
    victim_ids, outsider_ids = set(), set()
    for model in tenant_models():
        if not isinstance(model._meta.pk, models.AutoField | models.BigAutoField):
            continue
        newest = model.objects.filter(organization=victim).order_by("-pk").values_list("pk", flat=True).first()
        if newest is not None:
            victim_ids.add(newest)
        outsider_ids.update(model.objects.filter(organization=outsider_org).values_list("pk", flat=True))
    return sorted(victim_ids - outsider_ids)


def request_as(client, url):
    response = client.get(url)
    if response.status_code == 405:
        response = (
            client.post(url, {}, content_type="application/json") if url.startswith("/api/") else client.post(url)
        )
    return response


def test_every_tenant_model_is_populated_for_the_walk(victim):
    empty = [m._meta.label for m in tenant_models() if not m.objects.filter(organization=victim).exists()]
    assert empty == [], f"add rows of these models to tests/<app>/factories.py:populate(): {empty}"


def test_outsider_gets_404_for_every_object_url(victim, outsider):
    client = client_for(outsider)
    ids = victim_ids(victim, outsider.organization)
    assert ids, "the victim organization has no rows to probe with"
    leaks = []
    for name, params in tenant_object_urls():
        # With the victim's slug, membership fails first; with their own slug, the object look-up must.
        probes = [(victim.slug, ids[0])] + [(outsider.organization.slug, object_id) for object_id in ids]
        for slug, object_id in probes:
            url = reverse(name, kwargs={"org_slug": slug, **dict.fromkeys(params, object_id)})
            response = request_as(client, url)
            if response.status_code != 404:
                leaks.append((url, response.status_code))
    assert leaks == []


def test_walk_covers_the_platform_urls():
    names = {name for name, _ in tenant_object_urls()}
    assert {"org_member_edit", "org_unit_edit", "member-detail", "invitation-revoke", "unit-detail"} <= names


def test_anonymous_is_sent_to_log_in_or_gets_401(victim, client):
    ids = victim_ids(victim, make_org("Empty"))
    for name, params in url_patterns():
        if not name or "org_slug" not in params:
            continue
        kwargs = {p: ids[0] for p in params if p != "org_slug"}
        url = reverse(name, kwargs={"org_slug": victim.slug, **kwargs})
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url)
        if url.startswith("/api/"):
            assert response.status_code == 401, url
        else:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_every_tenant_model_carries_the_organization_and_leads_its_keys_with_it():
    problems = []
    for model in tenant_models():
        label = model._meta.label
        field = model._meta.get_field("organization")
        if field.null or field.related_model._meta.label != "tenancy.Organization":
            problems.append(f"{label}: organization must be a non-null FK")
        for constraint in model._meta.constraints:
            fields = getattr(constraint, "fields", ())
            if isinstance(constraint, models.UniqueConstraint) and fields and fields[0] != "organization":
                problems.append(f"{label}: unique constraint {constraint.name} must lead with organization")
        for together in model._meta.unique_together:
            if together[0] != "organization":
                problems.append(f"{label}: unique_together {together} must lead with organization")
        for index in model._meta.indexes:
            if len(index.fields) > 1 and index.fields[0].lstrip("-") != "organization":
                problems.append(f"{label}: index {index.name} must lead with organization")
        # Look-ups by organization need an index led by it; the foreign key's own would be a copy of it.
        led = [i.fields for i in model._meta.indexes if not i.condition] + [
            c.fields for c in model._meta.constraints if isinstance(c, models.UniqueConstraint) and not c.condition
        ]
        if not any(fields and fields[0].lstrip("-") == "organization" for fields in led):
            problems.append(f"{label}: needs an index or unique constraint led by organization")
        if field.db_index:
            problems.append(f"{label}: organization needs no index of its own")
        for f in model._meta.local_fields:
            if f.unique and not f.primary_key and not isinstance(f, models.OneToOneField):
                problems.append(f"{label}.{f.name}: unique=True is global; use a constraint led by organization")
        for m2m in model._meta.local_many_to_many:
            through = m2m.remote_field.through
            if not issubclass(through, TenantModel):
                problems.append(f"{label}.{m2m.name}: use an explicit through= TenantModel")
    assert problems == []
