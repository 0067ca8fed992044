def seed(organization, people: dict) -> None:
    """Add this app's demo data to the demo organization. `people` maps a role to its demo membership."""
