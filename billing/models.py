"""Receipts, bills of supply, tax invoices and refund notes, and their numbering.

A document copies everything it shows (the clinic's details, the patient, each line's
name, SAC, amounts and tax) when it is issued: it is never edited afterwards, so a later
change of a price, a rate or the clinic's address never rewrites a document.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from billing.gstin import STATE_CHOICES, validate_gstin
from bookings.models import money_field

# "<prefix>/<FY>/<serial>", at most 16 characters (CGST Rule 46(b)): 4 + 1 + 5 + 1 + 5.
NUMBER_MAX_LENGTH = 16
PREFIX_MAX_LENGTH = 4


class BillingSettings(models.Model):
    """The clinic as its documents name it. One row, created by the migration."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    legal_name = models.CharField(max_length=120)
    address = models.TextField()
    state = models.CharField(max_length=2, choices=STATE_CHOICES)
    gstin = models.CharField(
        "GSTIN",
        max_length=15,
        blank=True,
        validators=[validate_gstin],
        help_text="Leave empty when the clinic is not registered for GST: it then issues "
        "plain receipts. With a GSTIN: bills of supply (exempt services), tax invoices.",
    )
    receipt_prefix = models.CharField(
        max_length=PREFIX_MAX_LENGTH,
        validators=[
            RegexValidator(r"^[A-Z0-9]{1,4}$", "1 to 4 capital letters or digits, e.g. CLN.")
        ],
        help_text="Starts every document number (CLN/26-27/00001); refund notes add R.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "billing settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="billing_settings_singleton"),
        ]

    def __str__(self) -> str:
        return self.legal_name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.gstin and self.state and self.gstin[:2] != self.state:
            raise ValidationError(
                {"gstin": f"This GSTIN is registered in state {self.gstin[:2]}, not {self.state}."}
            )


class Series(models.TextChoices):
    DOCUMENTS = "documents", "Receipts, bills of supply and tax invoices"
    REFUND_NOTES = "refund_notes", "Refund notes"


class DocumentCounter(models.Model):
    """The last number issued in one series and financial year: the row every issue
    of that series takes with one conditional UPDATE, in the document's transaction."""

    series = models.CharField(max_length=12, choices=Series.choices)
    financial_year = models.PositiveSmallIntegerField()  # its starting year: 2026 for 26-27
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["series", "financial_year"], name="billing_counter_per_series_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.financial_year}: {self.last_serial}"


class DocumentKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    BILL_OF_SUPPLY = "bill_of_supply", "Bill of supply"
    TAX_INVOICE = "tax_invoice", "Tax invoice"
    REFUND_NOTE = "refund_note", "Refund note"


ONE_DOCUMENT_PER_PAYMENT = "billing_document_once_per_payment"
ONE_NOTE_PER_REFUND = "billing_note_once_per_refund"


class Document(models.Model):
    number = models.CharField(max_length=NUMBER_MAX_LENGTH, unique=True)
    series = models.CharField(max_length=12, choices=Series.choices)
    financial_year = models.PositiveSmallIntegerField()
    serial = models.PositiveIntegerField()
    kind = models.CharField(max_length=14, choices=DocumentKind.choices)
    issued_at = models.DateTimeField()
    issued_on = models.DateField()  # the clinic's date (IST) of issue
    booking = models.ForeignKey(
        "bookings.Booking", on_delete=models.PROTECT, related_name="billing_documents"
    )
    correlation_id = models.UUIDField()
    # payments' rows, by id: billing never imports payments (participants are independent).
    payment_id = models.PositiveBigIntegerField()
    payment_method = models.CharField(max_length=10)
    # Online: how it was paid at the gateway (upi, card, netbanking, …); else empty.
    payment_instrument = models.CharField(max_length=12, blank=True)
    refund_id = models.PositiveBigIntegerField(null=True, blank=True)
    refunds = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="refund_notes"
    )
    # The clinic as it was when the document was issued.
    supplier_name = models.CharField(max_length=120)
    supplier_address = models.TextField()
    supplier_state = models.CharField(max_length=2)
    supplier_gstin = models.CharField(max_length=15, blank=True)
    patient_name = models.CharField(max_length=120)
    language = models.CharField(max_length=2, default="en")
    currency = models.CharField(max_length=3, default="INR")
    gross = money_field()  # the lines' prices before the discount
    discount = money_field()
    taxable_value = money_field()  # after the discount, before tax
    cgst = money_field()
    sgst = money_field()
    total = money_field()  # what was paid (or given back)

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["booking", "issued_at"], name="billing_doc_booking")]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "financial_year", "serial"], name="billing_serial_unique"
            ),
            models.UniqueConstraint(
                fields=["payment_id"],
                condition=Q(refund_id__isnull=True),
                name=ONE_DOCUMENT_PER_PAYMENT,
            ),
            models.UniqueConstraint(
                fields=["refund_id"],
                condition=Q(refund_id__isnull=False),
                name=ONE_NOTE_PER_REFUND,
            ),
            models.CheckConstraint(
                condition=Q(kind="refund_note", series="refund_notes", refund_id__isnull=False)
                | (~Q(kind="refund_note") & Q(series="documents", refund_id__isnull=True)),
                name="billing_kind_matches_series",
            ),
            models.CheckConstraint(
                condition=Q(taxable_value__gte=0, cgst__gte=0, sgst__gte=0, total__gte=0)
                & Q(total=models.F("taxable_value") + models.F("cgst") + models.F("sgst")),
                name="billing_totals_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class DocumentLine(models.Model):
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=160)
    # The Hindi name the service had when booked (Hindi documents show it); may be blank.
    description_hi = models.CharField(max_length=160, blank=True, default="")
    sac = models.CharField("SAC", max_length=8)
    price = money_field()  # as booked, before the discount
    discount = money_field()
    taxable_value = money_field()
    gst_rate = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("40"))],
    )
    cgst = money_field()
    sgst = money_field()
    total = money_field()

    class Meta:
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="billing_line_unique"),
            models.CheckConstraint(
                condition=Q(total=models.F("taxable_value") + models.F("cgst") + models.F("sgst")),
                name="billing_line_total_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} ₹{self.total}"
