import rules

from members.rules import can_read, has_staff_role

rules.add_perm("visits", has_staff_role)
rules.add_perm("visits.view_visit", can_read)
