"""The rule for visit photos, in one place: what is accepted, how it is read and how it is stored.

A photo of a visit may show a vulnerable person's home, and a phone's EXIF records where it
was taken. So a photo is:

- refused while it is uploading, as soon as it passes VISIT_PHOTO_MAX_BYTES
  (`PhotoUploadLimit`, a Django upload handler), and the whole request when it cannot hold
  VISIT_PHOTOS_PER_LOG such photos;
- accepted only as JPEG, PNG or WebP by its decoded content, whatever its name says, and
  refused above VISIT_PHOTO_MAX_PIXELS from its header, before it is decoded (`photo_check`);
- re-encoded with its EXIF orientation applied and every metadata block (EXIF with GPS,
  XMP, ICC, comments) dropped, its longest side brought down to VISIT_PHOTO_MAX_SIDE
  (`photo_reencode`).

The form calls `photo_check` to show errors next to the field; `visit_log` calls
`photos_prepare`, which checks again and re-encodes, before anything is written.
"""

from __future__ import annotations

import io
import warnings
from pathlib import PurePath
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

# Decoded format → (file extension, Content-Type). Nothing else is opened at all.
FORMATS = {"JPEG": (".jpg", "image/jpeg"), "PNG": (".png", "image/png"), "WEBP": (".webp", "image/webp")}
CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}
ACCEPT = ",".join(content_type for _ext, content_type in FORMATS.values())
# Room in a request for the other fields of the form and the multipart framing.
REQUEST_MARGIN_BYTES = 1024 * 1024
_SAVE_OPTIONS = {"JPEG": {"quality": 85}, "PNG": {}, "WEBP": {"quality": 85}}


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def too_large_message(name: str) -> str:
    return _("%(name)s is larger than %(size)s MB.") % {
        "name": name,
        "size": _megabytes(settings.VISIT_PHOTO_MAX_BYTES),
    }


def request_max_bytes() -> int:
    """The largest request that can carry a full set of photos of the largest size."""
    return settings.VISIT_PHOTOS_PER_LOG * settings.VISIT_PHOTO_MAX_BYTES + REQUEST_MARGIN_BYTES


def request_too_large_message() -> str:
    return _("The photos are too large together: at most %(count)s photos of %(size)s MB each.") % {
        "count": settings.VISIT_PHOTOS_PER_LOG,
        "size": _megabytes(settings.VISIT_PHOTO_MAX_BYTES),
    }


def help_text() -> str:
    return _(
        "JPEG, PNG or WebP; at most %(count)s photos of %(size)s MB each. Location and camera data are removed."
    ) % {
        "count": settings.VISIT_PHOTOS_PER_LOG,
        "size": _megabytes(settings.VISIT_PHOTO_MAX_BYTES),
    }


def content_type_for(name: str) -> str:
    return CONTENT_TYPES.get(PurePath(name).suffix.lower(), "application/octet-stream")


def _open(upload: IO[bytes], name: str) -> Image.Image:
    """Read the header only (Pillow decodes on first use of the pixels) and check the size."""
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(upload, formats=list(FORMATS))
    except Image.DecompressionBombError as error:
        raise _too_many_pixels(name) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(
            _("%(name)s is not a JPEG, PNG or WebP image."), code="photo_format", params={"name": name}
        ) from error
    width, height = image.size
    if width * height > settings.VISIT_PHOTO_MAX_PIXELS:
        raise _too_many_pixels(name)  # (not `close()`: that would close the upload too)
    return image


def _too_many_pixels(name: str) -> ValidationError:
    return ValidationError(
        _("%(name)s has too many pixels: at most %(megapixels)s megapixels."),
        code="photo_pixels",
        params={"name": name, "megapixels": f"{settings.VISIT_PHOTO_MAX_PIXELS / 1_000_000:g}"},
    )


def photo_check(upload: UploadedFile) -> None:
    """Size in bytes, decoded format and pixel count, from the header: cheap, nothing decoded."""
    name = upload.name or _("photo")
    if upload.size is not None and upload.size > settings.VISIT_PHOTO_MAX_BYTES:
        raise ValidationError(too_large_message(name), code="photo_size")
    with _open(upload, name):  # leaves the upload open, to be read again
        pass


def photos_check_count(photos: list[UploadedFile]) -> None:
    if len(photos) > settings.VISIT_PHOTOS_PER_LOG:
        raise ValidationError(
            _("At most %(count)s photos per visit."),
            code="photo_count",
            params={"count": settings.VISIT_PHOTOS_PER_LOG},
        )


def _without_metadata(image: Image.Image, format: str) -> Image.Image:
    if format == "JPEG" and image.mode not in ("RGB", "L"):
        return image.convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    if format == "WEBP" and image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if image.mode in ("LA", "P") else "RGB")
    return image


def photo_reencode(upload: UploadedFile) -> ContentFile:
    """A new file with the same picture, upright, at most VISIT_PHOTO_MAX_SIDE, no metadata."""
    name = upload.name or _("photo")
    side = settings.VISIT_PHOTO_MAX_SIDE
    with _open(upload, name) as original:
        format = original.format or "JPEG"
        if format == "JPEG":
            original.draft(None, (side, side))  # decode a large JPEG at 1/2, 1/4 or 1/8 straight away
        try:
            image = ImageOps.exif_transpose(original)  # decodes: a copy, turned as the camera was held
        except (OSError, SyntaxError, ValueError) as error:
            raise ValidationError(
                _("%(name)s could not be read as an image."), code="photo_broken", params={"name": name}
            ) from error
    image.thumbnail((side, side), Image.Resampling.LANCZOS)  # only ever shrinks, keeps the aspect
    image = _without_metadata(image, format)
    image.info = {}  # EXIF, XMP, ICC, comments, text chunks: none is written again
    buffer = io.BytesIO()
    image.save(buffer, format=format, **_SAVE_OPTIONS[format])
    extension, _content_type = FORMATS[format]
    return ContentFile(buffer.getvalue(), name=f"photo{extension}")


def photos_prepare(photos: list[UploadedFile]) -> list[ContentFile]:
    """Check every photo and re-encode it, or raise ValidationError({"photos": ...}) and keep none."""
    try:
        photos_check_count(photos)
        for photo in photos:
            photo_check(photo)
        return [photo_reencode(photo) for photo in photos]
    except ValidationError as error:
        raise ValidationError({"photos": error.error_list}) from error


class PhotoUploadLimit(FileUploadHandler):
    """Stops reading photos that are too large, before they are held in memory or on disk.

    Put first in `request.upload_handlers` before `request.POST` or `request.FILES` is read
    (so the view is `csrf_exempt` outside and `csrf_protect` inside: Django's CSRF check reads
    the POST). A file passing VISIT_PHOTO_MAX_BYTES is skipped at that chunk and recorded; a
    request whose declared length cannot be a full set of photos stops at its first file, the
    text fields before it (the form puts the photos last) kept to show the form again.
    """

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.errors: list[str] = []
        self.request_too_large = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > request_max_bytes():
            self.request_too_large = True
            self.errors.append(request_too_large_message())
        return None  # parse as usual, through the checks below

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        if self.request_too_large:
            raise StopUpload(connection_reset=True)  # read no further: nothing after this is needed

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.VISIT_PHOTO_MAX_BYTES:
            self.errors.append(too_large_message(self.file_name or _("photo")))
            raise SkipFile  # the parser closes what the next handlers started and drops the rest
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) holds the file
