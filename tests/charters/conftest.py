import pytest

from cxprogram.tenancy.permissions import Role
from tests.conftest import client_for
from tests.factories import make_user

from .factories import draft_charter


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def editor(member):
    return member(Role.CX_COE, user=make_user("jordan@acme.example", "Jordan Lee"))


@pytest.fixture
def lead(member):
    return member(Role.EXECUTIVE, user=make_user("morgan@acme.example", "Morgan Reyes"), title="CEO")


@pytest.fixture
def supporter(member):
    return member(Role.EXECUTIVE, user=make_user("priya@acme.example", "Priya Natarajan"), title="COO")


@pytest.fixture
def supporter2(member):
    return member(Role.EXECUTIVE, user=make_user("daniel@acme.example", "Daniel Okafor"), title="CFO")


@pytest.fixture
def draft(org, editor):
    return draft_charter(org, editor)


@pytest.fixture
def editor_client(editor):
    return client_for(editor)


@pytest.fixture
def lead_client(lead):
    return client_for(lead)
