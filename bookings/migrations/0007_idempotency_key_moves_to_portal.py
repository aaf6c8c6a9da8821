# IdempotencyKey now belongs to portal (portal/migrations/0001_initial.py takes it
# over in the migration state); the table and its rows stay where they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('bookings', '0006_idempotency_key'),
        ('portal', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name='IdempotencyKey')],
        ),
    ]
