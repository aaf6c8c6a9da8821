"""GSTIN: the format and its check character (GST's mod-36 checksum), and the states.

A GSTIN is 15 characters: the state's two-digit GST code, the holder's PAN (5 letters,
4 digits, a letter), the registration's number in that state (1-9, A-Z), `Z`, and a
check character computed over the first 14 (Luhn mod 36, factors 1, 2, 1, 2, ...).
"""

import re

from django.core.exceptions import ValidationError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
GSTIN_FORMAT = re.compile(r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$")

# The GST state codes (CBIC), as the first two digits of a GSTIN.
STATES: dict[str, str] = {
    "01": "Jammu and Kashmir",
    "02": "Himachal Pradesh",
    "03": "Punjab",
    "04": "Chandigarh",
    "05": "Uttarakhand",
    "06": "Haryana",
    "07": "Delhi",
    "08": "Rajasthan",
    "09": "Uttar Pradesh",
    "10": "Bihar",
    "11": "Sikkim",
    "12": "Arunachal Pradesh",
    "13": "Nagaland",
    "14": "Manipur",
    "15": "Mizoram",
    "16": "Tripura",
    "17": "Meghalaya",
    "18": "Assam",
    "19": "West Bengal",
    "20": "Jharkhand",
    "21": "Odisha",
    "22": "Chhattisgarh",
    "23": "Madhya Pradesh",
    "24": "Gujarat",
    "26": "Dadra and Nagar Haveli and Daman and Diu",
    "27": "Maharashtra",
    "29": "Karnataka",
    "30": "Goa",
    "31": "Lakshadweep",
    "32": "Kerala",
    "33": "Tamil Nadu",
    "34": "Puducherry",
    "35": "Andaman and Nicobar Islands",
    "36": "Telangana",
    "37": "Andhra Pradesh",
    "38": "Ladakh",
}
STATE_CHOICES = [(code, f"{name} ({code})") for code, name in STATES.items()]


def check_character(first14: str) -> str:
    total = 0
    for position, char in enumerate(first14):
        product = ALPHABET.index(char) * (2 if position % 2 else 1)
        total += product // 36 + product % 36
    return ALPHABET[(36 - total % 36) % 36]


def validate_gstin(value: str) -> None:
    if not GSTIN_FORMAT.match(value):
        raise ValidationError(
            "A GSTIN is 15 characters: state code, PAN, entity number, Z and a check "
            "character (e.g. 29ABCDE1234F1Z5), in capitals.",
            code="gstin_format",
        )
    if value[:2] not in STATES:
        raise ValidationError(f"{value[:2]} is not a GST state code.", code="gstin_state")
    if check_character(value[:14]) != value[14]:
        raise ValidationError(
            "This GSTIN's last character does not match: check it for a mistyped character.",
            code="gstin_checksum",
        )
