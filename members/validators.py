import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
_PHONE_PATTERN = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def id_number_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def validate_id_number(value: str) -> None:
    if not _ID_PATTERN.match(value) or id_number_check_char(value[:17]) != value[17]:
        raise ValidationError(_("Enter a valid 18-character resident ID number."), code="invalid_id_number")


def validate_phone(value: str) -> None:
    if not _PHONE_PATTERN.match(value):
        raise ValidationError(
            _("Enter a mobile number of 11 digits or a landline such as 010-12345678."),
            code="invalid_phone",
        )


def normalise_id_number(value: str) -> str:
    return value.strip().upper()


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s()（）]", "", value.strip())
