"""A document as a PDF (fpdf2): A4, or 80 mm wide for the front desk's thermal printer.

In the patient's language (English or Hindi). Devanagari needs shaping (conjuncts, vowel
signs placed before their consonant): fpdf2 shapes through HarfBuzz (uharfbuzz) with the
Lohit Devanagari font shipped in billing/fonts (SIL OFL 1.1), which has Latin and ₹ too,
so one font writes both languages and nothing is needed from the machine.
"""

from decimal import Decimal
from pathlib import Path

from django.utils import timezone
from fpdf import FPDF

from billing.models import Document, DocumentKind
from billing.words import amount_in_words
from bookings.money import format_inr

FONT = Path(__file__).resolve().parent / "fonts" / "Lohit-Devanagari.ttf"

LABELS = {
    "en": {
        DocumentKind.RECEIPT: "Receipt",
        DocumentKind.BILL_OF_SUPPLY: "Bill of supply",
        DocumentKind.TAX_INVOICE: "Tax invoice",
        DocumentKind.REFUND_NOTE: "Refund note",
        "number": "No.",
        "date": "Date",
        "patient": "Patient",
        "gstin": "GSTIN",
        "state": "State",
        "service": "Service",
        "sac": "SAC",
        "price": "Price",
        "discount": "Discount",
        "taxable": "Taxable value",
        "rate": "GST %",
        "total": "Total",
        "paid": "Amount paid",
        "refunded": "Amount refunded",
        "by": "Paid by",
        "card": "card",
        "cash": "cash",
        "pos": "card at the counter",
        "online": "online",
        "upi": "UPI",
        "netbanking": "netbanking",
        "wallet": "wallet",
        "emi": "EMI",
        "words": "In words",
        "refunds": "Refund against",
        "exempt": "Health-care services exempt from GST (SAC 9993): no tax charged.",
        "unregistered": "Not registered for GST: no tax charged.",
    },
    "hi": {
        DocumentKind.RECEIPT: "रसीद",
        DocumentKind.BILL_OF_SUPPLY: "आपूर्ति का बिल",
        DocumentKind.TAX_INVOICE: "कर बीजक",
        DocumentKind.REFUND_NOTE: "धनवापसी पत्र",
        "number": "क्रमांक",
        "date": "दिनांक",
        "patient": "रोगी",
        "gstin": "GSTIN",
        "state": "राज्य",
        "service": "सेवा",
        "sac": "SAC",
        "price": "मूल्य",
        "discount": "छूट",
        "taxable": "कर योग्य मूल्य",
        "rate": "GST %",
        "total": "कुल",
        "paid": "भुगतान की गई राशि",
        "refunded": "वापस की गई राशि",
        "by": "भुगतान का तरीका",
        "card": "कार्ड",
        "cash": "नकद",
        "pos": "काउंटर पर कार्ड",
        "online": "ऑनलाइन",
        "upi": "UPI",
        "netbanking": "नेटबैंकिंग",
        "wallet": "वॉलेट",
        "emi": "EMI",
        "words": "शब्दों में",
        "refunds": "इस रसीद की धनवापसी",
        "exempt": "GST से छूट प्राप्त स्वास्थ्य सेवाएँ (SAC 9993): कोई कर नहीं लिया गया।",
        "unregistered": "GST में पंजीकृत नहीं: कोई कर नहीं लिया गया।",
    },
}

LAYOUTS = ("a4", "80mm")


def paid_by(document: Document, *, language: str = "en") -> str:
    """How it was paid, in words: "cash", "card at the counter", "online (UPI)"."""
    words = LABELS[language]
    method = words.get(document.payment_method, document.payment_method)
    if instrument := document.payment_instrument:  # online: UPI, a card, netbanking…
        return f"{method} ({words.get(instrument, instrument)})"
    return method


def money(value: Decimal) -> str:
    return format_inr(value)


class _Pdf(FPDF):
    base_size: float  # the body text's size, set once the font is chosen

    def __init__(self, *, layout: str, height: float = 0) -> None:
        if layout == "80mm":
            # A roll: one page as long as the document needs (the printer cuts after it).
            super().__init__(unit="mm", format=(80, height or 2000))
            self.set_margins(4, 4, 4)
        else:
            super().__init__(unit="mm", format="A4")
            self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=8)
        self.add_font("Lohit", fname=str(FONT))
        self.set_font("Lohit", size=9 if layout == "80mm" else 10)
        self.set_text_shaping(True)
        self.add_page()

    def line_of(self, text: str, *, size: float | None = None, align: str = "L") -> None:
        if size:
            self.set_font_size(size)
        self.multi_cell(0, self.font_size * 1.6, text, align=align, new_x="LMARGIN", new_y="NEXT")
        if size:
            self.set_font_size(self.base_size)

    def pair(self, label: str, value: str) -> None:
        width = self.epw
        self.cell(width * 0.55, self.font_size * 1.7, label)
        self.cell(
            width * 0.45, self.font_size * 1.7, value, align="R", new_x="LMARGIN", new_y="NEXT"
        )

    def rule(self) -> None:
        y = self.get_y() + 1
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_y(y + 2)


def render(document: Document, *, layout: str = "a4", language: str | None = None) -> bytes:
    language = language if language in LABELS else document.language
    if language not in LABELS:
        language = "en"
    lines = list(document.lines.all())
    pdf = _draw(document, lines, _Pdf(layout=layout), layout, language)
    if layout == "80mm":  # drawn once on a long roll to measure it, then at its length
        height = pdf.get_y() + pdf.b_margin + 2
        pdf = _draw(document, lines, _Pdf(layout=layout, height=height), layout, language)
    return bytes(pdf.output())


def _draw(document: Document, lines: list, pdf: _Pdf, layout: str, language: str) -> _Pdf:
    words = LABELS[language]
    pdf.base_size = pdf.font_size_pt
    narrow = layout == "80mm"
    pdf.set_title(f"{LABELS['en'][document.kind]} {document.number}")
    pdf.set_author(document.supplier_name)

    pdf.line_of(document.supplier_name, size=pdf.base_size + 4, align="C")
    pdf.line_of(document.supplier_address, align="C")
    if document.supplier_gstin:
        pdf.line_of(f"{words['gstin']}: {document.supplier_gstin}", align="C")
    pdf.rule()
    pdf.line_of(words[document.kind], size=pdf.base_size + 3, align="C")
    pdf.pair(words["number"], document.number)
    issued = timezone.localtime(document.issued_at)
    pdf.pair(words["date"], f"{issued:%d-%m-%Y %H:%M} IST")
    pdf.pair(words["patient"], document.patient_name)
    if document.refunds is not None:
        pdf.pair(words["refunds"], document.refunds.number)
    pdf.rule()

    taxed = document.kind == DocumentKind.TAX_INVOICE or (
        document.kind == DocumentKind.REFUND_NOTE and document.cgst > 0
    )
    for line in lines:
        name = line.description_hi if language == "hi" and line.description_hi else line.description
        pdf.line_of(f"{line.position}. {name}")
        pdf.pair(f"   {words['sac']}", line.sac)
        pdf.pair(f"   {words['price']}", money(line.price))
        if line.discount:
            pdf.pair(f"   {words['discount']}", f"- {money(line.discount)}")
        if taxed:
            pdf.pair(f"   {words['taxable']}", money(line.taxable_value))
            half = line.gst_rate / 2
            pdf.pair(f"   CGST {half.normalize():f}%", money(line.cgst))
            pdf.pair(f"   SGST {half.normalize():f}%", money(line.sgst))
        pdf.pair(f"   {words['total']}", money(line.total))
        if not narrow:
            pdf.ln(1)
    pdf.rule()
    if document.discount:
        pdf.pair(words["price"], money(document.gross))
        pdf.pair(words["discount"], f"- {money(document.discount)}")
    if taxed:
        pdf.pair(words["taxable"], money(document.taxable_value))
        pdf.pair("CGST", money(document.cgst))
        pdf.pair("SGST", money(document.sgst))
    refund = document.kind == DocumentKind.REFUND_NOTE
    pdf.set_font_size(pdf.base_size + 2)
    pdf.pair(words["refunded" if refund else "paid"], money(document.total))
    pdf.set_font_size(pdf.base_size)
    pdf.pair(words["by"], paid_by(document, language=language))
    pdf.line_of(f"{words['words']}: {amount_in_words(document.total, language)}")
    pdf.rule()
    if document.kind == DocumentKind.BILL_OF_SUPPLY:
        pdf.line_of(words["exempt"], size=pdf.base_size - 1)
    elif document.kind == DocumentKind.RECEIPT:
        pdf.line_of(words["unregistered"], size=pdf.base_size - 1)
    return pdf
