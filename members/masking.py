"""Masked renderings of personal data, shown to everyone not entitled to the full value."""


def mask_phone(phone: str) -> str:
    """138****5678: keep the first three and the last four digits."""
    if not phone:
        return ""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(id_number: str) -> str:
    """110***********1234: keep the region prefix and the last four characters."""
    if not id_number:
        return ""
    if len(id_number) <= 7:
        return "*" * len(id_number)
    return id_number[:3] + "*" * (len(id_number) - 7) + id_number[-4:]


def mask_address(address: str) -> str:
    """Keep the first six characters (city, district), hide the rest."""
    if not address:
        return ""
    keep = min(6, len(address) // 2)
    return address[:keep] + "****"
