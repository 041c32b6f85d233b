"""Permissions (django-rules) for requests (诉求) and their history.

Rights follow from roles, as in members/rules.py: managers of the request's
organisation change it, inspectors and managers read it. Nobody deletes a request:
the ledger and its history are kept. Moving a request through the workflow is not a
model permission but a rule of visits/requests/services.py (the responsible member may move
their own request; the admin cannot change the state at all).
"""

from typing import Any

import rules

from members.rules import can_manage, can_read, has_staff_role
from members.scoping import get_scope


@rules.predicate
def can_read_request_history(user, obj: Any = None) -> bool:
    # The admin asks with the request the steps belong to; a step itself answers through its request.
    request = getattr(obj, "request", obj)
    if request is None:
        return get_scope(user).has_staff_role
    return get_scope(user).reads(request.organisation)


rules.add_perm("requests", has_staff_role)
rules.add_perm("requests.view_request", can_read)
rules.add_perm("requests.add_request", can_manage)
rules.add_perm("requests.change_request", can_manage)
rules.add_perm("requests.delete_request", rules.always_deny)
rules.add_perm("requests.view_requesttransition", can_read_request_history)
rules.add_perm("requests.add_requesttransition", rules.always_deny)
rules.add_perm("requests.change_requesttransition", rules.always_deny)
rules.add_perm("requests.delete_requesttransition", rules.always_deny)
