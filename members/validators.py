import re
import unicodedata

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


def _halfwidth(value: str) -> str:
    """Full-width digits, letters and punctuation (１２３, ＸＸ, －) as their ASCII forms (NFKC)."""
    return unicodedata.normalize("NFKC", value)


def normalise_id_number(value: str) -> str:
    """An ID number as stored: half-width, without spaces or dashes, with an upper-case X."""
    return re.sub(r"[\s\-]", "", _halfwidth(value)).upper()


_PHONE_SEPARATORS = re.compile(r"[\s\-.()（）]")
_COUNTRY_PREFIX = re.compile(r"^(?:\+|00)\s*86[\s\-]*")
_LANDLINE = re.compile(r"^[(（]?(0\d{2,3})[)）]?[\s\-.]*((?:\d[\s\-.]?){6,7}\d)$")


def normalise_phone(value: str) -> str:
    """A phone as stored: `+86 139-0000-0001`, `0086 13900000001` → 13900000001; `(010) 1234 5678` → 010-12345678."""
    text = _COUNTRY_PREFIX.sub("", _halfwidth(value).strip())
    compact = _PHONE_SEPARATORS.sub("", text)
    if re.fullmatch(r"861[3-9]\d{9}", compact):
        compact = compact[2:]
    if re.fullmatch(r"1[3-9]\d{9}", compact):
        return compact
    landline = _LANDLINE.match(text)
    if landline and (landline.group(0) != compact or text.startswith(("(", "（"))):
        return f"{landline.group(1)}-{_PHONE_SEPARATORS.sub('', landline.group(2))}"
    return compact


# Middle dots between the parts of a name (阿依·古丽): the interpunct, bullet, katakana dots, and a
# full stop typed between two Chinese characters. Stored as U+00B7, the form GB 18030 names use.
NAME_DOT = "\u00b7"
_DOTS = re.compile(r"\s*[\u00b7\u2022\u2027\u2219\u22c5\u30fb\uff65\u0387]\s*")
_CJK = r"[\u3400-\u9fff\uf900-\ufaff]"
_FULL_STOP_BETWEEN_CJK = re.compile(rf"(?<={_CJK})\s*[.．。]\s*(?={_CJK})")


def normalise_name(value: str) -> str:
    """A name as stored: trimmed, runs of spaces as one, every middle dot as ·."""
    text = re.sub(r"\s+", " ", value.strip())
    text = _DOTS.sub(NAME_DOT, text)
    return _FULL_STOP_BETWEEN_CJK.sub(NAME_DOT, text)


def name_key(value: str) -> str:
    """What two spellings of one name share: normalised, without spaces, half-width, case-folded."""
    return re.sub(r"\s", "", _halfwidth(normalise_name(value))).casefold()
