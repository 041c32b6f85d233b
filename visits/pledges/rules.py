"""Permissions (django-rules) for pledges, service posts, claims and community registrations.

The predicates come from members/rules.py: they find an object's organisation through
`.organisation` (a post) or `.member.organisation` (a pledge, a claim, a registration).
Progress entries belong where their pledge belongs.
"""

import rules

from members.rules import can_manage, can_read, has_staff_role

from .models import PledgeProgress


def _via_pledge(obj):
    return obj.pledge if isinstance(obj, PledgeProgress) else obj


@rules.predicate
def can_read_progress(user, obj=None) -> bool:
    return can_read.test(user, _via_pledge(obj))


@rules.predicate
def can_manage_progress(user, obj=None) -> bool:
    return can_manage.test(user, _via_pledge(obj))


rules.add_perm("pledges", has_staff_role)

for model in ("pledge", "servicepost", "postclaim", "communityregistration"):
    rules.add_perm(f"pledges.view_{model}", can_read)
    rules.add_perm(f"pledges.add_{model}", can_manage)
    rules.add_perm(f"pledges.change_{model}", can_manage)
    rules.add_perm(f"pledges.delete_{model}", can_manage)

rules.add_perm("pledges.view_pledgeprogress", can_read_progress)
rules.add_perm("pledges.add_pledgeprogress", can_manage_progress)
rules.add_perm("pledges.change_pledgeprogress", can_manage_progress)
rules.add_perm("pledges.delete_pledgeprogress", can_manage_progress)
