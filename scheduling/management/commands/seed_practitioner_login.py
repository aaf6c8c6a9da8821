"""The demo's doctor login: a staff account in the "Practitioner" group linked to a
seeded practitioner, so `make run` shows a practitioner's own day. No default password:
it comes from DEMO_PRACTITIONER_PASSWORD, or one is generated and printed this once
(running the command again leaves an existing account as it is)."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from scheduling.models import Practitioner

SEEDED_DOCTOR = "KMC-104233"  # Dr. Anjali Rao, General Physician (scheduling 0002)
PASSWORD_VARIABLE = "DEMO_PRACTITIONER_PASSWORD"


class Command(BaseCommand):
    help = (
        "Give a seeded practitioner a staff login (password from the environment or printed once)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--registration", default=SEEDED_DOCTOR)
        parser.add_argument("--username", default="dr.rao")

    def handle(self, *args, registration: str, username: str, **options) -> None:
        practitioner = Practitioner.objects.filter(registration_number=registration).first()
        if practitioner is None:
            raise CommandError(f"No practitioner with registration number {registration}.")
        if practitioner.user_id is not None:
            self.stdout.write(f"{practitioner.name} already signs in as {practitioner.user}.")
            return
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"The username {username} is taken by another account.")
        given = os.environ.get(PASSWORD_VARIABLE, "")
        password = given or secrets.token_urlsafe(12)
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password, is_staff=True)
            user.groups.add(Group.objects.get(name="Practitioner"))
            practitioner.user = user
            practitioner.save(update_fields=["user"])
        shown = f"the password in {PASSWORD_VARIABLE}" if given else f"password {password}"
        self.stdout.write(
            f"{practitioner.name} signs in at /admin/ as {username} with {shown}"
            + ("" if given else " (shown this once: note it now)")
        )
