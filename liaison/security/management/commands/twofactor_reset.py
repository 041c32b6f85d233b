from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from liaison.security.services import second_factor_remove


class Command(BaseCommand):
    help = (
        "Remove a user's authenticator app and recovery codes (a lost phone). "
        "Administrators and inspectors set up a new app at their next login."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is called {username!r}.")
        second_factor_remove(user=user)
        self.stdout.write(self.style.SUCCESS(f"Two-factor authentication of {username} removed."))
