"""Storage for files that hold personal data and must never have a public address."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """Files in PRIVATE_MEDIA_ROOT, outside MEDIA_ROOT: no web server serves them, and they
    have no URL (`.url` raises); a view that checks who is asking streams them.

    The directory is read from the settings on every use, so a test can point it elsewhere.
    """

    @property
    def base_location(self) -> str:
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    @property
    def base_url(self) -> None:  # type: ignore[override]  # Django handles None (url() raises); the stubs say str
        return None
