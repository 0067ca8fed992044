"""Public feedback URLs (no login): the client's survey, one-click unsubscribe, the bounce webhook.
Mounted at the site root."""

from django.urls import path

from . import public_views

app_name = "feedback_public"

urlpatterns = [
    path("s/<str:token>/", public_views.survey, name="survey"),
    path("s/<str:token>/autosave/", public_views.autosave, name="autosave"),
    path("s/<str:token>/thanks/", public_views.thanks, name="thanks"),
    path("s/<str:token>/unsubscribe/", public_views.unsubscribe, name="unsubscribe"),
    path("hooks/feedback/bounces/<slug:organization_slug>/", public_views.bounce_webhook, name="bounce_webhook"),
]
