"""The app shell's navigation, by role. Later apps add their entries here (one line each)."""

from django.urls import NoReverseMatch, reverse

# (label, url name, permission, section that is active when the url name starts with it)
NAV = [
    ("Home", "org_home", "org.view", "org_home"),
    ("Charter", "charters:index", "charter.view", "charters:"),
    ("Feedback", "feedback:index", "feedback.view", "feedback:"),
    ("Initiatives", "initiatives:index", "initiatives.view", "initiatives:"),
    ("Dashboards", "metrics:index", "dashboards.view", "metrics:"),
    ("Settings", "org_settings", "members.view", "org_"),
]


def navigation_for(request, membership) -> list[dict]:
    current = request.resolver_match.view_name if request.resolver_match else ""
    items = []
    for label, url_name, permission, section in NAV:
        if not membership.can(permission):
            continue
        try:
            url = reverse(url_name, kwargs={"org_slug": membership.organization.slug})
        except NoReverseMatch:
            continue  # that part of the product is not installed yet
        active = (
            current == url_name if section == "org_home" else (current.startswith(section) and current != "org_home")
        )
        items.append({"label": label, "url": url, "active": active})
    return items
