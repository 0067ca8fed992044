from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from cxprogram.accounts import views as account_views
from cxprogram.core import health
from cxprogram.core import views as core_views
from cxprogram.tenancy import views as tenancy_views

handler500 = "cxprogram.core.views.server_error"

urlpatterns = [
    path("", tenancy_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("allauth.urls")),
    path("settings/tokens/", account_views.api_tokens, name="api_tokens"),
    path("settings/tokens/<int:pk>/revoke/", account_views.api_token_revoke, name="api_token_revoke"),
    path("orgs/", tenancy_views.organization_list, name="organization_list"),
    path("orgs/new/", tenancy_views.organization_create, name="organization_create"),
    path("invitations/<str:token>/", tenancy_views.invitation, name="invitation"),
    path("o/<slug:org_slug>/", include("cxprogram.tenancy.urls")),
    path("o/<slug:org_slug>/charters/", include("charters.urls")),
    path("o/<slug:org_slug>/feedback/", include("feedback.urls")),
    path("", include("feedback.public_urls")),
    path("o/<slug:org_slug>/initiatives/", include("initiatives.urls")),
    path("o/<slug:org_slug>/metrics/", include("metrics.urls")),
    path("api/v1/", include("cxprogram.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api_schema"), name="api_redoc"),
    path("dev/outbox/", core_views.outbox, name="dev_outbox"),
    path("dev/outbox/<int:pk>/", core_views.outbox_message, name="dev_outbox_message"),
    path("dev/outbox/<int:pk>/html/", core_views.outbox_message_html, name="dev_outbox_message_html"),
    path("django-admin/", admin.site.urls),
]

if settings.BENCHMARK_ENDPOINTS:
    urlpatterns += [
        path("_bench/floor/", core_views.benchmark_floor, name="benchmark_floor"),
        path("_bench/read-and-insert/", core_views.benchmark_read_and_insert, name="benchmark_read_and_insert"),
    ]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
