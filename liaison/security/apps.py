from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    """Logging in and staying logged in: the second factor (django-otp), the session's idle and
    absolute limits, and `Cache-Control: no-store` on authenticated pages.

    It builds on `members` (who needs a second factor is a question for the user's `Scope`).
    """

    name = "liaison.security"
    label = "security"
    verbose_name = _("Sign-in security")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .sessions import session_start

        user_logged_in.connect(session_start, dispatch_uid="liaison.security.session_start")
