from django.conf import settings
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
