"""Factories: people and organisations made through the real services where a rule matters."""

from datetime import date, timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from members import services
from members.models import (
    Contact,
    ContactCategory,
    Gender,
    Member,
    MemberCategory,
    MemberStatus,
    Organisation,
    OrganisationKind,
)
from members.validators import id_number_check_char
from pairings.models import Pairing, Term, TermKind

PASSWORD = "a-long-test-password-42"


def make_id_number(serial: int) -> str:
    """A valid, unique 18-character ID number for each serial."""
    born = date(1960, 1, 1) + timedelta(days=serial // 1000)
    first17 = f"110101{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + id_number_check_char(first17)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class OrganisationFactory(factory.Factory[Organisation]):
    """Organisations go through `organisation_create`, which keeps the tree valid."""

    class Meta:
        model = dict

    name = factory.Sequence(lambda n: f"第{n}党支部")
    code = factory.Sequence(lambda n: f"ORG{n:04d}")
    kind = OrganisationKind.BRANCH
    parent = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.organisation_create(**kwargs)

    @classmethod
    def _build(cls, model_class, **kwargs):
        raise NotImplementedError("Organisations are saved as tree nodes; use create().")


class MemberFactory(factory.django.DjangoModelFactory[Member]):
    class Meta:
        model = Member

    name = factory.Sequence(lambda n: f"党员{n}")
    gender = Gender.MALE
    category = MemberCategory.FACULTY
    status = MemberStatus.FULL
    id_number = factory.Sequence(lambda n: make_id_number(n))
    phone = factory.Sequence(lambda n: f"139{n:08d}")


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"群众{n}")
    gender = Gender.FEMALE
    category = ContactCategory.STUDENT
    id_number = factory.Sequence(lambda n: make_id_number(50000 + n))
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    address = factory.Sequence(lambda n: f"北京市海淀区学府路{n}号")
    unit = "计算机系"


class TermFactory(factory.django.DjangoModelFactory[Term]):
    class Meta:
        model = Term

    name = factory.Sequence(lambda n: f"学期{n}")
    kind = TermKind.SEMESTER
    starts_on = factory.Faker("date_object")
    ends_on = factory.LazyAttribute(lambda term: term.starts_on.replace(year=term.starts_on.year + 1))
    is_current = True


class PairingFactory(factory.django.DjangoModelFactory[Pairing]):
    class Meta:
        model = Pairing

    started_on = factory.LazyAttribute(lambda pairing: pairing.term.starts_on)
