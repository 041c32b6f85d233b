from django.core.management.base import BaseCommand

from liaison.demo.builder import DEMO_PASSWORD, build_demo, demo_exists
from members.models import Contact, Member, Organisation


class Command(BaseCommand):
    help = "Build a demo university committee with members, contacts and pairings, and print the demo logins."

    def handle(self, *args, **options) -> None:
        if demo_exists():
            self.stdout.write("The demo data is already there.")
            accounts = {"admin": "", "secretary": "", "member": "", "inspector": ""}
        else:
            accounts = build_demo()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Built {Organisation.objects.count()} organisations, {Member.objects.count()} members, "
                    f"{Contact.objects.count()} contacts."
                )
            )
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for username, description in accounts.items():
            self.stdout.write(f"  {username:<10} {description}")
        self.stdout.write(
            "admin and inspector set up two-factor authentication at their first login: scan the QR code\n"
            "with any authenticator app for time-based codes (Microsoft or Google Authenticator, FreeOTP,\n"
            "Tencent Authenticator), or type the key shown, e.g. `oathtool --totp -b KEY` on a computer.\n"
            "They then see 10 recovery codes once; later logins ask for a code from the app.\n"
            "Lost it? `python manage.py twofactor_reset admin` and set it up again."
        )
