"""Visit photos: private storage, the scoped view, re-encoding without EXIF, formats and limits."""

import importlib
import io
import random
import struct
import zlib
from datetime import date
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from PIL import ExifTags, Image

from pairings import services as pairing_services
from tests.conftest import open_term
from visits import photos, services
from visits.models import Visit, VisitPhoto
from visits.services import VisitData

pytestmark = pytest.mark.django_db

GPS = ExifTags.IFD.GPSInfo


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PRIVATE_MEDIA_X_ACCEL_PREFIX = ""
    return tmp_path / "private"


@pytest.fixture
def term(world):
    with time_machine.travel(date(2026, 9, 1)):
        term = open_term(world)
        pairing_services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    return term


def visit_form(**overrides):
    return {"happened_on": "2026-10-14", "mode": "talk", "discussed": "学习情况和生活困难", **overrides}


def picture(size=(40, 20), format="JPEG", exif=None, noise=False) -> bytes:
    if noise:
        pixels = random.Random(0).randbytes(size[0] * size[1] * 3)
        image = Image.frombytes("RGB", size, pixels)
    else:
        image = Image.new("RGB", size, "red")
    buffer = io.BytesIO()
    image.save(buffer, format=format, **({"exif": exif} if exif is not None else {}))
    return buffer.getvalue()


def exif_with_gps(orientation=1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone maker"
    exif[ExifTags.Base.Model] = "Phone X"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(GPS)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (39.0, 54.0, 27.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 23.0, 30.0)
    return exif


def upload(client, world, *files, **fields):
    return client.post(
        reverse("visits:visit_create", args=[world.contact_a1.pk]), {**visit_form(**fields), "photos": list(files)}
    )


def logged_with_photo(world, data: bytes = b"", name="家访.jpg") -> VisitPhoto:
    visit = services.visit_log(
        user=world.member_a1.user,
        contact=world.contact_a1,
        data=VisitData(happened_on=date(2026, 10, 14), mode="home_visit", discussed="家访"),
        photos=[SimpleUploadedFile(name, data or picture(), content_type="image/jpeg")],
    )
    return visit.photos.get()


def photo_url(photo: VisitPhoto) -> str:
    return reverse("visits:visit_photo", args=[photo.visit_id, photo.pk])


def stored(photo: VisitPhoto) -> Image.Image:
    return Image.open(Path(django_settings.PRIVATE_MEDIA_ROOT) / photo.image.name)


def in_chinese(message) -> str:
    with translation.override("zh-hans"):
        return str(message())


# Who may see a photo ----------------------------------------------------------------------------


def test_the_photo_url_is_at_the_visit_log(world, term):
    photo = logged_with_photo(world)
    assert photo_url(photo) == f"/work/logs/{photo.visit_id}/photos/{photo.pk}/"


@pytest.mark.parametrize("persona", ["member_a1", "secretary_a", "inspector", "administrator"])
def test_those_who_may_read_the_visit_get_its_photo_privately(client, world, term, persona):
    photo = logged_with_photo(world)
    user = getattr(world, persona)
    client.force_login(getattr(user, "user", user))
    response = client.get(photo_url(photo))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == photo.image.open("rb").read()
    assert {part.strip() for part in response["Cache-Control"].split(",")} >= {"private", "no-store"}
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")


@pytest.mark.parametrize("persona", ["member_a2", "secretary_b", "outsider"])
def test_anyone_else_gets_not_found_for_a_photo(client, world, term, persona):
    photo = logged_with_photo(world)
    user = getattr(world, persona)
    client.force_login(getattr(user, "user", user))
    assert client.get(photo_url(photo)).status_code == 404


def test_anonymous_gets_not_found_for_a_photo_not_a_login_page(client, world, term):
    photo = logged_with_photo(world)
    response = client.get(photo_url(photo))
    assert response.status_code == 404


def test_a_photo_is_not_found_under_another_visit_even_one_the_user_may_read(client, world, term):
    photo = logged_with_photo(world)
    other = logged_with_photo(world)
    client.force_login(world.member_a1.user)
    assert client.get(reverse("visits:visit_photo", args=[other.visit_id, photo.pk])).status_code == 404
    assert client.get(reverse("visits:visit_photo", args=[photo.visit_id, photo.pk])).status_code == 200


def test_the_visit_page_shows_photos_through_the_scoped_view(client, world, term):
    photo = logged_with_photo(world)
    client.force_login(world.secretary_a.user)
    html = client.get(reverse("visits:visit_detail", args=[photo.visit_id])).content.decode()
    assert f'src="{photo_url(photo)}"' in html
    assert "/media/" not in html


def test_behind_nginx_the_view_answers_with_x_accel_redirect_and_no_body(client, world, term, settings):
    settings.PRIVATE_MEDIA_X_ACCEL_PREFIX = "/protected/"
    photo = logged_with_photo(world)
    client.force_login(world.member_a1.user)
    response = client.get(photo_url(photo))
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected/{photo.image.name}"
    assert response.content == b""
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    client.force_login(world.member_a2.user)
    response = client.get(photo_url(photo))
    assert response.status_code == 404
    assert "X-Accel-Redirect" not in response


# Where photos are kept --------------------------------------------------------------------------


def test_a_photo_is_kept_in_private_storage_under_a_random_name_with_no_url(world, term, private_root, settings):
    photo = logged_with_photo(world, name="张同学家门口.jpg")
    path = Path(photo.image.path).resolve()
    assert path.is_relative_to(private_root.resolve())
    for public in (settings.MEDIA_ROOT, settings.STATIC_ROOT, *settings.STATICFILES_DIRS):
        assert not path.is_relative_to(Path(public).resolve())
    assert "张同学" not in photo.image.name
    assert f"/{photo.visit_id}/" not in photo.image.name
    assert photo.image.name.endswith(".jpg")
    assert photo.image.name != logged_with_photo(world, name="张同学家门口.jpg").image.name
    with pytest.raises(ValueError, match="not accessible via a URL"):
        photo.image.url  # noqa: B018


def test_media_is_not_served_by_django(client, world, term):
    photo = logged_with_photo(world)
    client.force_login(world.member_a1.user)
    assert client.get(f"/media/{photo.image.name}").status_code == 404


def test_existing_photos_move_from_media_into_private_storage_without_exif(
    world, term, settings, django_capture_on_commit_callbacks
):
    visit = services.visit_log(
        user=world.member_a1.user,
        contact=world.contact_a1,
        data=VisitData(happened_on=date(2026, 10, 14), mode="talk", discussed="谈心"),
    )
    old_name = f"visits/{visit.pk}/张同学家.JPG"
    old_path = Path(settings.MEDIA_ROOT) / old_name
    old_path.parent.mkdir(parents=True)
    old_path.write_bytes(picture(exif=exif_with_gps()))
    photo = VisitPhoto.objects.create(visit=visit, image=old_name)  # a row from before the move
    migration = importlib.import_module("visits.migrations.0002_visit_photo_private_storage")
    with django_capture_on_commit_callbacks(execute=True):
        migration.move_photos_to_private_storage(apps, None)
    photo.refresh_from_db()
    assert photo.image.name != old_name
    assert photo.image.name.endswith(".jpg")
    assert not old_path.exists()
    assert not stored(photo).getexif()


# What is accepted and how it is stored --------------------------------------------------------


def test_a_stored_photo_has_no_exif_and_no_gps_position(client, world, term):
    original = picture(exif=exif_with_gps())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS)  # the phone's photo has a position
    client.force_login(world.member_a1.user)
    response = upload(client, world, SimpleUploadedFile("IMG_0001.jpg", original, content_type="image/jpeg"))
    assert response.status_code == 302
    image = stored(VisitPhoto.objects.get())
    assert image.format == "JPEG"
    assert not image.getexif()
    assert not image.getexif().get_ifd(GPS)
    assert "exif" not in image.info


def test_a_photo_is_turned_upright_by_its_exif_orientation_before_the_exif_goes(client, world, term):
    client.force_login(world.member_a1.user)
    sideways = picture((40, 20), exif=exif_with_gps(orientation=6))  # taken with the phone turned
    upload(client, world, SimpleUploadedFile("turned.jpg", sideways, content_type="image/jpeg"))
    assert stored(VisitPhoto.objects.get()).size == (20, 40)


@pytest.mark.parametrize("format", ["PNG", "WEBP"])
def test_png_and_webp_photos_are_accepted_and_kept_in_their_format(client, world, term, format):
    client.force_login(world.member_a1.user)
    data = picture(format=format, exif=exif_with_gps())
    response = upload(client, world, SimpleUploadedFile("photo.bin", data, content_type="application/octet-stream"))
    assert response.status_code == 302
    photo = VisitPhoto.objects.get()
    assert photo.image.name.endswith({"PNG": ".png", "WEBP": ".webp"}[format])
    assert not stored(photo).getexif()
    response = client.get(photo_url(photo))
    assert response["Content-Type"] == {"PNG": "image/png", "WEBP": "image/webp"}[format]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("animation.gif", picture(format="GIF")),
        ("scan.tiff", picture(format="TIFF")),
        ("old.bmp", picture(format="BMP")),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>'),
        ("notes.jpg", "一段文字，不是照片".encode()),
    ],
)
def test_anything_but_jpeg_png_or_webp_is_refused_and_no_visit_is_logged(client, world, term, name, data):
    client.force_login(world.member_a1.user)
    response = upload(client, world, SimpleUploadedFile(name, data, content_type="image/jpeg"))
    assert response.status_code == 200
    assert not Visit.objects.exists()
    assert not VisitPhoto.objects.exists()
    expected = in_chinese(lambda: gettext("%(name)s is not a JPEG, PNG or WebP image.") % {"name": name})
    assert expected in response.content.decode()
    assert "学习情况和生活困难" in response.content.decode()  # what was typed is shown again


def test_a_photo_with_too_many_pixels_is_refused(client, world, term, settings):
    settings.VISIT_PHOTO_MAX_PIXELS = 30 * 30
    client.force_login(world.member_a1.user)
    response = upload(client, world, SimpleUploadedFile("wide.png", picture((40, 40), "PNG")))
    assert response.status_code == 200
    assert not Visit.objects.exists()
    assert response.context["form"].errors.as_data()["photos"][0].code == "photo_pixels"


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its data does not hold: decoding it would fail."""
    data = picture((8, 8), "PNG")
    ihdr = struct.pack(">II", width, height) + data[24:29]
    chunk = b"IHDR" + ihdr
    return data[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


def test_a_photo_with_too_many_pixels_is_refused_from_its_header_before_decoding(client, world, term):
    client.force_login(world.member_a1.user)
    bomb = png_header_claiming(10_000, 10_000)  # 100 megapixels claimed, a few bytes sent
    response = upload(client, world, SimpleUploadedFile("bomb.png", bomb, content_type="image/png"))
    assert response.status_code == 200
    assert not Visit.objects.exists()
    assert response.context["form"].errors.as_data()["photos"][0].code == "photo_pixels"


def test_a_large_photo_is_brought_down_to_the_longest_side_keeping_its_aspect(client, world, term, settings):
    settings.VISIT_PHOTO_MAX_SIDE = 64
    client.force_login(world.member_a1.user)
    upload(client, world, SimpleUploadedFile("big.jpg", picture((400, 200))))
    upload(client, world, SimpleUploadedFile("small.jpg", picture((40, 20))))
    big, small = VisitPhoto.objects.order_by("pk")
    assert stored(big).size == (64, 32)
    assert stored(small).size == (40, 20)  # never enlarged


def test_more_photos_than_allowed_are_refused(client, world, term, settings):
    settings.VISIT_PHOTOS_PER_LOG = 2
    client.force_login(world.member_a1.user)
    files = [SimpleUploadedFile(f"{index}.jpg", picture()) for index in range(3)]
    response = upload(client, world, *files)
    assert response.status_code == 200
    assert not Visit.objects.exists()
    assert response.context["form"].errors.as_data()["photos"][0].code == "photo_count"


# Refused while uploading ------------------------------------------------------------------------


def test_a_photo_over_the_byte_limit_is_refused_while_uploading_and_nothing_is_saved(client, world, term, settings):
    settings.VISIT_PHOTO_MAX_BYTES = 1000
    client.force_login(world.member_a1.user)
    small = SimpleUploadedFile("small.jpg", picture())
    big = SimpleUploadedFile("big.png", picture((64, 64), "PNG", noise=True))
    assert big.size is not None and big.size > 1000
    response = upload(client, world, small, big, place="张同学家")
    assert response.status_code == 200
    assert not Visit.objects.exists()
    assert not VisitPhoto.objects.exists()
    html = response.content.decode()
    assert in_chinese(lambda: photos.too_large_message("big.png")) in html
    assert "small.jpg" not in html
    assert "张同学家" in html  # what was typed is shown again
    # The form never received the big file: the upload handler stopped it.
    assert [file.name for file in response.wsgi_request.FILES.getlist("photos")] == ["small.jpg"]


def test_a_request_too_large_for_any_set_of_photos_is_stopped_at_its_first_file(client, world, term, settings):
    settings.VISIT_PHOTO_MAX_BYTES = 1000
    settings.VISIT_PHOTOS_PER_LOG = 1
    assert photos.request_max_bytes() < 2 * 1024 * 1024
    client.force_login(world.member_a1.user)
    huge = SimpleUploadedFile("huge.jpg", b"\xff" * (2 * 1024 * 1024))
    response = upload(client, world, huge, follow_up="下周再去")
    assert response.status_code == 200
    assert not Visit.objects.exists()
    html = response.content.decode()
    assert in_chinese(photos.request_too_large_message) in html
    assert "下周再去" in html  # the text fields come before the photos and were read
    assert not response.wsgi_request.FILES


def test_logging_a_visit_with_photos_still_needs_the_csrf_token(world, term):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.member_a1.user)
    url = reverse("visits:visit_create", args=[world.contact_a1.pk])
    response = client.post(url, {**visit_form(), "photos": [SimpleUploadedFile("p.jpg", picture())]})
    assert response.status_code == 403
    token = client.get(url).context["csrf_token"]
    response = client.post(
        url, {**visit_form(), "csrfmiddlewaretoken": str(token), "photos": [SimpleUploadedFile("p.jpg", picture())]}
    )
    assert response.status_code == 302
    assert VisitPhoto.objects.count() == 1


def test_changing_a_log_still_needs_the_csrf_token(world, term):
    visit = logged_with_photo(world).visit
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.member_a1.user)
    assert client.post(reverse("visits:visit_edit", args=[visit.pk]), visit_form()).status_code == 403


def test_a_request_stopped_before_its_fields_still_says_why_and_logs_nothing(client, world, term, settings):
    settings.VISIT_PHOTO_MAX_BYTES = 1000
    settings.VISIT_PHOTOS_PER_LOG = 1
    client.force_login(world.member_a1.user)
    huge = SimpleUploadedFile("huge.jpg", b"\xff" * (2 * 1024 * 1024))
    response = client.post(
        reverse("visits:visit_create", args=[world.contact_a1.pk]), {"photos": [huge], **visit_form()}
    )
    assert response.status_code == 200
    assert not Visit.objects.exists()
    assert in_chinese(photos.request_too_large_message) in response.content.decode()


def test_a_photo_whose_data_is_cut_short_is_refused_with_an_error_not_a_server_error(client, world, term):
    client.force_login(world.member_a1.user)
    whole = picture((400, 200), noise=True)
    response = upload(client, world, SimpleUploadedFile("cut.jpg", whole[: len(whole) // 2]))
    assert response.status_code == 200
    assert not Visit.objects.exists()
    assert in_chinese(lambda: gettext("%(name)s could not be read as an image.") % {"name": "cut.jpg"}) in (
        response.content.decode()
    )
