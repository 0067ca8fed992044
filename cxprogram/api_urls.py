"""/api/v1/: organizations, then everything of one organization under /api/v1/orgs/<org_slug>/.
Apps add their viewsets to `router` with an `ORG` prefix."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

import charters.api
import feedback.api
import initiatives.api
import metrics.api
from cxprogram.audit.api import AuditEventViewSet
from cxprogram.tenancy import api as tenancy_api

ORG = r"orgs/(?P<org_slug>[-a-zA-Z0-9_]+)/"

router = SimpleRouter()
router.register(r"orgs", tenancy_api.OrganizationListViewSet, basename="organization")
router.register(ORG + "members", tenancy_api.MemberViewSet, basename="member")
router.register(ORG + "invitations", tenancy_api.InvitationViewSet, basename="invitation")
router.register(ORG + "units", tenancy_api.UnitViewSet, basename="unit")
router.register(ORG + "audit-events", AuditEventViewSet, basename="audit-event")
for app_api in (charters.api, feedback.api, initiatives.api, metrics.api):
    app_api.register(router, ORG)

organization_detail = tenancy_api.OrganizationDetailViewSet.as_view({"get": "retrieve", "patch": "partial_update"})

urlpatterns = [
    path("orgs/<slug:org_slug>/", organization_detail, name="organization-detail"),
    path("", include(router.urls)),
]
