import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError

from members import services
from members.masking import mask_address, mask_id_number, mask_phone
from members.models import SensitiveAccess
from members.validators import validate_id_number, validate_phone
from tests.factories import ContactFactory


def test_phone_is_masked_as_138_stars_5678():
    assert mask_phone("13812345678") == "138****5678"


def test_id_number_is_masked_keeping_region_and_last_four():
    assert mask_id_number("110101199003076632") == "110***********6632"


def test_address_keeps_only_the_district():
    assert mask_address("北京市海淀区学府路88号3栋502室") == "北京市海淀区****"


def test_empty_values_stay_empty():
    assert mask_phone("") == mask_id_number("") == mask_address("") == ""


@pytest.mark.parametrize("value", ["110101199003076632", "11010519491231002X"])
def test_valid_id_numbers_pass(value):
    validate_id_number(value)


@pytest.mark.parametrize("value", ["110101199003076633", "11010119900307663", "ABCDEFGHIJKLMNOPQR"])
def test_id_numbers_with_a_wrong_check_character_or_shape_fail(value):
    with pytest.raises(ValidationError):
        validate_id_number(value)


@pytest.mark.parametrize("value", ["13812345678", "010-12345678", "075512345678"])
def test_mobile_and_landline_numbers_pass(value):
    validate_phone(value)


@pytest.mark.parametrize("value", ["12812345678", "1381234567", "phone"])
def test_malformed_phone_numbers_fail(value):
    with pytest.raises(ValidationError):
        validate_phone(value)


@pytest.mark.django_db
def test_the_access_log_is_never_erased_with_the_person_it_names(world):
    contact = ContactFactory.create(organisation=world.branch_a)
    services.contact_reveal(user=world.secretary_a.user, contact=contact)
    with pytest.raises(ProtectedError):
        contact.delete()
    assert SensitiveAccess.objects.filter(contact=contact).count() == 1
