"""An amount in words, in Indian numbering (thousand, lakh, crore), English or Hindi:
"Rupees One Thousand Two Hundred Fifty Only", "रुपये एक हज़ार दो सौ पचास मात्र".

Written here rather than taken from a library: num2words has no Hindi and writes English
in another style ("one thousand, two hundred and fifty"); Hindi's numbers below a
hundred are irregular words, so they are a table.
"""

from decimal import Decimal

from bookings.money import to_money

EN_ONES = (
    "Zero One Two Three Four Five Six Seven Eight Nine Ten Eleven Twelve Thirteen Fourteen "
    "Fifteen Sixteen Seventeen Eighteen Nineteen"
).split()
EN_TENS = "_ _ Twenty Thirty Forty Fifty Sixty Seventy Eighty Ninety".split()

HI_BELOW_100 = (
    "शून्य एक दो तीन चार पाँच छह सात आठ नौ "
    "दस ग्यारह बारह तेरह चौदह पंद्रह सोलह सत्रह अठारह उन्नीस "
    "बीस इक्कीस बाईस तेईस चौबीस पच्चीस छब्बीस सत्ताईस अट्ठाईस उनतीस "
    "तीस इकतीस बत्तीस तैंतीस चौंतीस पैंतीस छत्तीस सैंतीस अड़तीस उनतालीस "
    "चालीस इकतालीस बयालीस तैंतालीस चवालीस पैंतालीस छियालीस सैंतालीस अड़तालीस उनचास "
    "पचास इक्यावन बावन तिरपन चौवन पचपन छप्पन सत्तावन अट्ठावन उनसठ "
    "साठ इकसठ बासठ तिरसठ चौंसठ पैंसठ छियासठ सड़सठ अड़सठ उनहत्तर "
    "सत्तर इकहत्तर बहत्तर तिहत्तर चौहत्तर पचहत्तर छिहत्तर सतहत्तर अठहत्तर उन्यासी "
    "अस्सी इक्यासी बयासी तिरासी चौरासी पचासी छियासी सत्तासी अट्ठासी नवासी "
    "नब्बे इक्यानवे बानवे तिरानवे चौरानवे पचानवे छियानवे सत्तानवे अट्ठानवे निन्यानवे"
).split()
assert len(HI_BELOW_100) == 100

# (size, English, Hindi), largest first: crore, lakh, thousand, hundred.
SCALES = (
    (10_000_000, "Crore", "करोड़"),
    (100_000, "Lakh", "लाख"),
    (1_000, "Thousand", "हज़ार"),
    (100, "Hundred", "सौ"),
)


def _below_100(n: int, language: str) -> str:
    if language == "hi":
        return HI_BELOW_100[n]
    if n < 20:
        return EN_ONES[n]
    tens, ones = divmod(n, 10)
    return EN_TENS[tens] + (f" {EN_ONES[ones]}" if ones else "")


def number_in_words(n: int, language: str = "en") -> str:
    """A whole number in Indian numbering: 1,25,000 is "One Lakh Twenty Five Thousand"."""
    if n < 0:
        raise ValueError("no words for a negative amount")
    if n < 100:
        return _below_100(n, language)
    words = []
    for size, english, hindi in SCALES:
        count, n = divmod(n, size)
        if count:  # above a crore the count is itself a number in words
            words.append(
                f"{number_in_words(count, language)} {hindi if language == 'hi' else english}"
            )
    if n:
        words.append(_below_100(n, language))
    return " ".join(words)


def amount_in_words(amount: Decimal, language: str = "en") -> str:
    value = to_money(amount)
    rupees = int(value)
    paise = int((value - rupees) * 100)
    if language == "hi":
        text = f"रुपये {number_in_words(rupees, 'hi')}"
        if paise:
            text += f" और {number_in_words(paise, 'hi')} पैसे"
        return f"{text} मात्र"
    text = f"Rupees {number_in_words(rupees)}"
    if paise:
        text += f" and {number_in_words(paise)} Paise"
    return f"{text} Only"
