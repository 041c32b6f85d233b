from django.conf import settings
from django.core.exceptions import BadRequest
from django.utils import translation
from django.utils.functional import SimpleLazyObject


class ChineseFirstLocaleMiddleware:
    """Chinese unless the user chose another language with the switcher.

    Django's LocaleMiddleware follows the browser's Accept-Language, which would
    show English to a secretary whose computer came with an English system.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class ScopeMiddleware:
    """`request.scope`: what the user may see and change, computed once per request, when first asked.

    As healthchecks sets `request.profile`. Lazy, so a request that never asks (a static
    file, the login page, an anonymous visitor) costs no query; `get_scope` keeps the
    result on the user object, so the admin and the django-rules predicates reuse it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from members.scoping import get_scope  # the project's ground floor imports no app at module level

        request.scope = SimpleLazyObject(lambda: get_scope(request.user))
        return self.get_response(request)


class RejectNulMiddleware:
    """A NUL character in a query string or a posted form field is a 400, before any view sees it.

    No form needs one, PostgreSQL refuses them in text ("A string literal cannot contain NUL"),
    and filters read by hand (`?category=`, the admin's `?name__startswith=`) would pass
    them on to a query: refusing them here is one rule for every page and the admin.
    Multipart bodies (uploads) are left to the view, which may first choose its upload
    handlers; their text fields go through Django's form fields, which refuse NUL themselves.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request.GET) or (
            request.method == "POST"
            and request.content_type == "application/x-www-form-urlencoded"
            and _has_nul(request.POST)
        ):
            raise BadRequest("NUL character in the request")
        return self.get_response(request)


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in data.lists())
