import pytest

from cxprogram.tenancy.permissions import Role


@pytest.fixture
def coe(member):
    return member(Role.CX_COE)


@pytest.fixture
def executive(member):
    return member(Role.EXECUTIVE)
