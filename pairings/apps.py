from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PairingsConfig(AppConfig):
    name = "pairings"
    verbose_name = _("Pairings")

    def ready(self) -> None:
        from members.selectors import contact_visibility_register

        from .selectors import paired_contact_condition

        # A member sees the contacts paired with them: members asks, pairings answers.
        contact_visibility_register(paired_contact_condition)
