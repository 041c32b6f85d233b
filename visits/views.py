from pathlib import PurePath
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_safe

from liaison.http import AuthenticatedHttpRequest
from liaison.services import StaleEdit
from members import selectors as member_selectors

from . import photos, selectors, services
from .forms import VisitForm


def _add_errors(form: VisitForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


# Photos are refused while they upload (visits.photos.PhotoUploadLimit), so the limit must be
# the first upload handler before anything reads the body. The CSRF check reads the body, so
# these views are csrf_exempt outside and csrf_protect inside, as Django's upload-handler
# documentation describes: the token is still required.


@csrf_exempt
@login_required
def visit_create(request: AuthenticatedHttpRequest, contact_id: int) -> HttpResponse:
    limit = photos.PhotoUploadLimit(request)
    assert isinstance(request.upload_handlers, list)  # immutable only once the body is read
    request.upload_handlers.insert(0, limit)
    return _visit_create(request, contact_id, limit)


@csrf_protect
def _visit_create(request: AuthenticatedHttpRequest, contact_id: int, limit: photos.PhotoUploadLimit) -> HttpResponse:
    contact = member_selectors.contact_get_for_user(user=request.user, contact_id=contact_id)
    pairing = services.active_pairing_for(user=request.user, contact=contact)  # 403 when not paired
    # Bound on every POST: a request stopped before its fields still shows why.
    posted = request.method == "POST"
    form = VisitForm(request.POST if posted else None, request.FILES if posted else None, upload_errors=limit.errors)
    del form.fields["version"]
    if posted and form.is_valid():
        try:
            visit = services.visit_log(
                user=request.user,
                contact=contact,
                data=form.visit_data(),
                photos=form.cleaned_data["photos"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("Logged: %(mode)s with %(contact)s.")
                % {
                    "mode": visit.get_mode_display(),
                    "contact": contact.name,
                },
            )
            return redirect("members:contact_detail", contact_id=contact.pk)
    return render(request, "visits/visit_form.html", {"form": form, "contact": contact, "pairing": pairing})


@login_required
def visit_detail(request: AuthenticatedHttpRequest, visit_id: int) -> HttpResponse:
    visit = selectors.visit_get_for_user(user=request.user, visit_id=visit_id)
    try:
        services.check_visit_editable(user=request.user, visit=visit)
        editable = True
    except PermissionDenied:
        editable = False
    staff = request.scope.has_staff_role
    history = visit.history.select_related("history_user").all() if staff else []
    help_history = selectors.visit_help_history(visit=visit) if staff else []
    return render(
        request,
        "visits/visit_detail.html",
        {"visit": visit, "editable": editable, "history": history, "help_history": help_history},
    )


@csrf_exempt
@login_required
def visit_edit(request: AuthenticatedHttpRequest, visit_id: int) -> HttpResponse:
    # The form takes no photos; files sent anyway are still read no further than the limit.
    assert isinstance(request.upload_handlers, list)  # immutable only once the body is read
    request.upload_handlers.insert(0, photos.PhotoUploadLimit(request))
    return _visit_edit(request, visit_id)


@csrf_protect
def _visit_edit(request: AuthenticatedHttpRequest, visit_id: int) -> HttpResponse:
    visit = selectors.visit_get_for_user(user=request.user, visit_id=visit_id)
    services.check_visit_editable(user=request.user, visit=visit)
    form = VisitForm(request.POST or None, initial=VisitForm.initial_from(visit))
    # Photos and requests are added with the log (requests are followed up in the ledger).
    del form.fields["photos"], form.fields["request_summary"], form.fields["idempotency_key"]
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_update(
                user=request.user,
                visit=visit,
                data=form.visit_data(),
                expected_version=form.cleaned_data["version"],
            )
        except StaleEdit as error:
            # The member's input stays in the form; sent again, it is an edit of the log as it is now.
            stale = True
            visit.refresh_from_db()
            form = _rebound(form, request.POST, version=visit.version)
            _add_errors(form, error)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("The visit log was updated."))
            return redirect("visits:visit_detail", visit_id=visit.pk)
    return render(
        request,
        "visits/visit_form.html",
        {"form": form, "contact": visit.pairing.contact, "visit": visit, "stale": stale},
    )


def _rebound(form: VisitForm, posted: QueryDict, **values) -> VisitForm:
    """The same form bound to the same input, with `values` replacing what was posted."""
    data = posted.copy()
    for name, value in values.items():
        data[name] = value
    rebound = VisitForm(data, initial=form.initial)
    for name in set(rebound.fields) - set(form.fields):
        del rebound.fields[name]
    rebound.is_valid()
    return rebound


@require_safe
def visit_photo(request: HttpRequest, visit_id: int, photo_id: int) -> HttpResponseBase:
    """A visit's photo, for exactly those who may read the visit; 404 for everyone else,
    anonymous included, so that ids cannot be probed."""
    photo = selectors.visit_photo_get_for_user(user=request.user, visit_id=visit_id, photo_id=photo_id)
    name = photo.image.name
    prefix = settings.PRIVATE_MEDIA_X_ACCEL_PREFIX
    response: HttpResponseBase
    if prefix:
        # nginx sends the file from an `internal` location aliased to PRIVATE_MEDIA_ROOT.
        response = HttpResponse(content_type=photos.content_type_for(name))
        response["X-Accel-Redirect"] = prefix + quote(name)
    else:
        try:
            file = photo.image.open("rb")
        except FileNotFoundError as error:
            raise Http404(_("No such photo.")) from error
        response = FileResponse(file, content_type=photos.content_type_for(name))
    disposition = content_disposition_header(as_attachment=False, filename=PurePath(name).name)
    assert disposition is not None  # a stored photo always has a file name
    response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def due_this_week(request: AuthenticatedHttpRequest) -> HttpResponse:
    member = request.scope.member
    if member is None:
        raise PermissionDenied(_("This page lists a party member's own contacts."))
    today = timezone.localdate()
    rows = selectors.member_due_list(member=member, today=today)
    return render(request, "visits/due.html", {"rows": rows, "today": today})
