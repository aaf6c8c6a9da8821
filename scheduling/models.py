"""Who sees patients, when, and how many at a time: practitioners, their weekly
schedules and leave, and the slots (with capacity) generated from them."""

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from bookings.models import EnglishInOriginalColumns


class Practitioner(EnglishInOriginalColumns):
    name = models.CharField(max_length=120)
    specialty = models.CharField(max_length=80)
    specialty_en: str  # modeltranslation's (scheduling/translation.py)
    specialty_hi: str | None
    registration_number = models.CharField(max_length=40, unique=True)
    active = models.BooleanField(default=True)
    services = models.ManyToManyField(
        "bookings.MedicalService", related_name="practitioners", blank=True
    )
    # The staff account the practitioner signs in with (group "Practitioner"): it sees
    # this practitioner's day and nobody else's.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="practitioner",
        help_text="The staff account this practitioner signs in with to see their own day.",
    )

    class Meta:
        ordering = ["name"]
        permissions = [("see_own_day", "Can see their own day and mark visits completed")]

    def __str__(self) -> str:
        return f"{self.name} ({self.specialty})"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WeeklySchedule(models.Model):
    """A practitioner's regular hours on one weekday (clinic time, IST)."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="schedules"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()
    slot_minutes = models.PositiveSmallIntegerField(default=15)
    capacity = models.PositiveSmallIntegerField(default=1, help_text="Patients per slot.")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["practitioner", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="schedule_weekday_valid"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="schedule_end_after"),
            models.CheckConstraint(condition=Q(slot_minutes__gt=0), name="schedule_slot_len"),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="schedule_capacity"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="schedule_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner.name}: {self.get_weekday_display()} {self.start}–{self.end}"


class OpeningHours(models.Model):
    """When the clinic's doors are open on one weekday (clinic time, IST): walk-ins are
    booked only for an open day, and for today only before closing. Clinic holidays
    (ScheduleException without a practitioner) close a day on top of these."""

    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, unique=True)
    closed = models.BooleanField(default=False, help_text="Closed all day, every week.")
    opens = models.TimeField(default=time(8, 0))
    closes = models.TimeField(default=time(17, 0))

    class Meta:
        ordering = ["weekday"]
        verbose_name = "opening hours"
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="hours_weekday_valid"),
            models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="hours_close_after"),
        ]

    def __str__(self) -> str:
        if self.closed:
            return f"{self.get_weekday_display()}: closed"
        return f"{self.get_weekday_display()}: {self.opens:%H:%M}–{self.closes:%H:%M}"


class ExceptionKind(models.TextChoices):
    LEAVE = "leave", "Leave"
    HOLIDAY = "holiday", "Clinic holiday"


class ScheduleException(models.Model):
    """Time nobody (practitioner blank: the whole clinic) or one practitioner sees patients."""

    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="exceptions",
        help_text="Blank: the whole clinic is closed.",
    )
    kind = models.CharField(max_length=10, choices=ExceptionKind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-start"]
        # Leave is the desk's to record; closing the whole clinic is the manager's.
        permissions = [("record_clinic_holiday", "Can close the whole clinic for a holiday")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="exception_end_after"),
            models.CheckConstraint(
                condition=Q(kind__in=ExceptionKind.values), name="exception_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        who = self.practitioner.name if self.practitioner is not None else "Whole clinic"
        return f"{who}: {self.get_kind_display()} {self.start:%Y-%m-%d %H:%M}"


class Slot(models.Model):
    """One bookable time of one practitioner; `booked` moves only by conditional UPDATEs."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="slots")
    start = models.DateTimeField()
    end = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField()
    booked = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["start", "practitioner"]
        indexes = [models.Index(fields=["start"], name="slot_start")]
        permissions = [("use_front_desk", "Can check patients in and mark no-shows")]
        constraints = [
            models.UniqueConstraint(fields=["practitioner", "start"], name="slot_unique_start"),
            models.CheckConstraint(condition=Q(booked__gte=0), name="slot_booked_non_negative"),
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="slot_booked_within_capacity"
            ),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="slot_end_after"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.practitioner.name} {self.start:%Y-%m-%d %H:%M} ({self.booked}/{self.capacity})"
        )

    @property
    def available(self) -> int:
        return max(self.capacity - self.booked, 0)


class SlotDay(models.Model):
    """Marks a clinic day whose slots were generated (so listing a day inserts nothing twice)."""

    day = models.DateField(primary_key=True)
    generated_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"slots of {self.day} generated"


ONE_SLOT_PER_SAGA = "slot_booking_once_per_saga"


class SlotBooking(models.Model):
    """One place in a slot held by one saga; given back exactly once (released_at).

    A saga holds at most one live place; a reschedule releases its row and adds one."""

    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="slot_bookings")
    correlation_id = models.UUIDField()
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="slot_bookings"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["correlation_id"],
                condition=Q(released_at__isnull=True),
                name=ONE_SLOT_PER_SAGA,
            ),
        ]
        indexes = [
            models.Index(
                fields=["slot"], condition=Q(released_at__isnull=True), name="slot_booking_live"
            )
        ]

    def __str__(self) -> str:
        state = "released" if self.released_at else "live"
        return f"{self.slot} {self.correlation_id} ({state})"


class WalkInAssignment(models.Model):
    """Which practitioner sees a walk-in (appointments have theirs through the slot):
    set by the front desk, so the walk-in shows on that practitioner's day."""

    booking = models.OneToOneField(
        "bookings.Booking", on_delete=models.PROTECT, related_name="walk_in_assignment"
    )
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="walk_in_assignments"
    )
    assigned_by = models.CharField(max_length=150)
    assigned_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.booking_id} seen by {self.practitioner.name}"
