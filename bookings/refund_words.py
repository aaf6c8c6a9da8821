"""Where a cancellation's refund goes, in the reader's language (the active one): one
sentence for the patient's pages, e-mails and SMS alike, so they never disagree.

`method` is the payment's (payments.PaymentMethod's values; the kernel knows them only
as the strings PaymentCompleted carries). A refund of money taken at the desk waits there
until a receptionist hands it over: until then the patient is told to come for it.
"""

from decimal import Decimal

from django.utils.translation import gettext as _

from bookings.money import format_inr

CASH, COUNTER_CARD, ONLINE = "cash", "pos", "online"


def refund_in_words(*, amount: Decimal | None, method: str, settled: bool) -> str:
    if not amount:
        return _("Nothing was refunded.")
    said = {"amount": format_inr(amount)}
    if method == CASH:
        if settled:
            return _("%(amount)s was given back in cash at the desk.") % said
        return _("Collect %(amount)s in cash at the clinic's desk.") % said
    if method == COUNTER_CARD and not settled:
        return _("Come to the clinic's desk to have %(amount)s refunded to your card.") % said
    if method == ONLINE:
        if settled:
            return _("%(amount)s was refunded to the account you paid from.") % said
        return _("%(amount)s is on its way back to the account you paid from.") % said
    if settled:
        return _("%(amount)s was refunded to your card.") % said
    return _("%(amount)s is on its way back to your card.") % said
