"""Django's admin finds `portal.admin`; the staff room's pages live in `portal/staff/`."""

from portal.staff import booking_admin, settings_admin  # noqa: F401  (they register)
