"""One account per e-mail address, case-insensitively (issue 22): password resets go by
e-mail, and 12 accounts had been registered with one address.

Existing duplicates first: the oldest account keeps the address (the one registered
first: an address typed into later sign-ups is more likely someone else's), each later
one has its e-mail cleared and an AuditLog row says which address it had, so staff can
reach its owner. Then a unique index on lower(email), blank e-mails (the front desk's
phone-only accounts) left out. PostgreSQL and SQLite both take it."""

from django.db import migrations
from django.db.models import Count
from django.db.models.functions import Lower

INDEX = "auth_user_email_ci_unique"


def clear_duplicate_emails(apps, schema_editor):
    User = apps.get_model("auth", "User")
    AuditLog = apps.get_model("bookings", "AuditLog")
    shared = (
        User.objects.exclude(email="")
        .annotate(email_ci=Lower("email"))
        .values("email_ci")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("email_ci", flat=True)
    )
    for email_ci in list(shared):
        accounts = list(
            User.objects.annotate(email_ci=Lower("email")).filter(email_ci=email_ci).order_by("pk")
        )
        keeper, later = accounts[0], accounts[1:]
        for account in later:
            AuditLog.objects.create(
                actor="system:migration",
                action="account.duplicate_email_cleared",
                object_type="auth.User",
                object_id=str(account.pk),
                before={"email": account.email},
                after={"email": "", "address_kept_by_user_id": keeper.pk},
            )
        User.objects.filter(pk__in=[a.pk for a in later]).update(email="")


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("bookings", "0018_online_payment"),
    ]

    operations = [
        migrations.RunPython(clear_duplicate_emails, migrations.RunPython.noop),
        migrations.RunSQL(
            f"CREATE UNIQUE INDEX {INDEX} ON auth_user (LOWER(email)) WHERE email <> ''",
            f"DROP INDEX {INDEX}",
        ),
    ]
