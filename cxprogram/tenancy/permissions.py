"""Who may do what: the one place that maps roles to permissions. Views, the API and navigation use `can`."""

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    EXECUTIVE = "executive", "Executive"
    CX_COE = "cx_coe", "CX Center of Excellence"
    UNIT_LEADER = "unit_leader", "Unit leader"
    PROJECT_MANAGER = "project_manager", "Project manager"
    STAFF = "staff", "Staff"


ALL = frozenset(Role.values)
A, E, C, U, P = Role.ADMIN, Role.EXECUTIVE, Role.CX_COE, Role.UNIT_LEADER, Role.PROJECT_MANAGER

PERMISSIONS: dict[str, frozenset[str]] = {
    # Platform
    "org.view": ALL,
    "org.manage": frozenset({A}),
    "members.view": ALL,
    "members.manage": frozenset({A}),
    "audit.view": frozenset({A}),
    # Charters
    "charter.view": ALL,
    "charter.edit": frozenset({A, E, C}),
    "charter.sign": frozenset({E}),
    "charter.callout": ALL,
    # Feedback
    "feedback.view": frozenset({A, E, C, U, P}),
    "feedback.send": frozenset({A, C, P}),
    "feedback.manage": frozenset({A, C}),
    "cases.view": frozenset({A, E, C, U, P}),
    "cases.manage": frozenset({A, C, U, P}),
    # Initiatives
    "initiatives.view": ALL,
    "initiatives.submit": ALL,
    "initiatives.manage": frozenset({A, C}),
    "board.decide": frozenset({A, E, C}),
    "limits.manage": frozenset({E}),
    # Metrics
    "dashboards.view": frozenset({A, E, C, U}),
    "metrics.manage": frozenset({A, C}),
    "reports.view": frozenset({A, E, C}),
}

# Roles that an organization can require two-factor authentication for.
TWO_FACTOR_ROLES = frozenset({A, E})


def can(roles, permission: str) -> bool:
    """True when any of `roles` grants `permission`. Unknown permissions are a programming error."""
    allowed = PERMISSIONS[permission]
    return any(role in allowed for role in roles)
