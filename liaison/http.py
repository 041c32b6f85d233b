from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.http import HttpRequest

if TYPE_CHECKING:
    from members.scoping import Scope


class AuthenticatedHttpRequest(HttpRequest):
    """A request behind @login_required: the user is a real account, their scope set by ScopeMiddleware."""

    user: User
    scope: Scope
