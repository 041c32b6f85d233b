"""In-app notifications (and the e-mails that go with them)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Kind(models.TextChoices):
        FALLING_BEHIND = "falling_behind", _("Falling behind")
        URGENT_SITUATION = "urgent_situation", _("Urgent situation")
        REQUEST_ASSIGNED = "request_assigned", _("Request assigned")
        REQUEST_SUPERVISED = "request_supervised", _("Request supervised")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    message = models.CharField(_("message"), max_length=300)
    url = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        # Named as it was created when the table was visits_notification (the name follows the table).
        indexes = [models.Index(fields=["user", "read_at"], name="visits_noti_user_id_3eb37e_idx")]

    def __str__(self) -> str:
        return self.message
