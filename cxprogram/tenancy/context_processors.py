from .navigation import navigation_for


def tenancy(request):
    organization = getattr(request, "organization", None)
    membership = getattr(request, "membership", None)
    return {
        "organization": organization,
        "membership": membership,
        "nav_items": navigation_for(request, membership) if membership else [],
    }
