# Photos move from MEDIA_ROOT (served publicly under /media/ with DEBUG) to the private
# storage (PRIVATE_MEDIA_ROOT), under random names, re-encoded without EXIF where Pillow
# can read them.

import io
from pathlib import PurePath

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import migrations, models, transaction

import visits.models

EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}


def _without_metadata(data: bytes) -> tuple[bytes, str | None]:
    """The photo re-encoded upright without EXIF (GPS included), or as it was if Pillow cannot."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as original:
            format = original.format
            if format not in EXTENSIONS:
                return data, None
            image = ImageOps.exif_transpose(original)
        if format == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.info = {}
        buffer = io.BytesIO()
        image.save(buffer, format=format)
        return buffer.getvalue(), EXTENSIONS[format]
    except Exception:  # noqa: BLE001 - a photo Pillow cannot read is moved as it is
        return data, None


def move_photos_to_private_storage(apps, schema_editor):
    from django.conf import settings

    VisitPhoto = apps.get_model("visits", "VisitPhoto")
    public = FileSystemStorage(location=settings.MEDIA_ROOT)
    moved = []
    for photo in VisitPhoto.objects.exclude(image="").iterator():
        old_name = photo.image.name
        if not public.exists(old_name):
            continue
        with public.open(old_name, "rb") as file:
            data, extension = _without_metadata(file.read())
        suffix = extension or PurePath(old_name).suffix.lower()
        photo.image.save(f"photo{suffix}", ContentFile(data), save=False)  # random name, private storage
        photo.save(update_fields=["image"])
        moved.append(old_name)
    # The public copies go only once the new names are committed.
    transaction.on_commit(lambda: [public.delete(name) for name in moved])


class Migration(migrations.Migration):

    dependencies = [
        ('visits', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='visitphoto',
            name='image',
            field=models.ImageField(storage=visits.models.private_storage, upload_to=visits.models.visit_photo_path, verbose_name='photo'),
        ),
        migrations.RunPython(move_photos_to_private_storage, migrations.RunPython.noop, elidable=True),
    ]
