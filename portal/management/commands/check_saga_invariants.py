"""Check DESIGN.md's invariants on the live database; exit 1 if any is broken."""

from django.core.management.base import BaseCommand, CommandError

from portal.ops.invariants import find_violations


class Command(BaseCommand):
    help = "Check the saga's invariants (quota counts, payments of confirmed and failed bookings)."

    def handle(self, *args, **options) -> None:
        violations = find_violations()
        for line in violations:
            self.stderr.write(line)
        if violations:
            raise CommandError(f"{len(violations)} invariant violation(s)")
        self.stdout.write(self.style.SUCCESS("All saga invariants hold."))
