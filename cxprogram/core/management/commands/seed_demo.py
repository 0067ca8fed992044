from django.core.management.base import BaseCommand

from cxprogram.core.demo import DEMO_PASSWORD, demo_logins, seed_demo


class Command(BaseCommand):
    help = "Create (or re-create) the demo organization with a person in every role and data in every part."

    def handle(self, *args, **options):
        organization = seed_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo organization “{organization.name}” at /o/{organization.slug}/"))
        self.stdout.write(f"Every demo login uses the password: {DEMO_PASSWORD}")
        for email, name, roles in demo_logins():
            self.stdout.write(f"  {email:38} {name:18} {roles}")
