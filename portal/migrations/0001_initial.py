# The IdempotencyKey model moves from bookings to portal; its table stays as it is.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('bookings', '0006_idempotency_key'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='IdempotencyKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=255)),
                        ('fingerprint', models.CharField(max_length=64)),
                        ('state', models.CharField(choices=[('in_flight', 'In flight'), ('done', 'Done')], default='in_flight', max_length=10)),
                        ('response_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('response_body', models.JSONField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('claimed_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('booking', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='bookings.booking')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='idempotency_keys', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'bookings_idempotencykey',
                        'constraints': [models.UniqueConstraint(fields=('user', 'key'), name='idempotency_key_once_per_user'), models.CheckConstraint(condition=models.Q(('state__in', ['in_flight', 'done'])), name='idempotency_state_valid'), models.CheckConstraint(condition=models.Q(('state', 'in_flight'), models.Q(('response_body__isnull', False), ('response_status__isnull', False)), _connector='OR'), name='idempotency_done_has_answer')],
                    },
                ),
            ],
        ),
    ]
