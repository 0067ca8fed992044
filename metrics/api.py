def register(router, org_prefix: str) -> None:
    """Add this app's viewsets to the API router under /api/v1/orgs/<org_slug>/."""
