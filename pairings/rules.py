import rules

from members.rules import can_administer, can_manage, can_read, has_staff_role

rules.add_perm("pairings", has_staff_role)
rules.add_perm("pairings.view_term", can_read)
rules.add_perm("pairings.add_term", can_administer)
rules.add_perm("pairings.change_term", can_administer)
rules.add_perm("pairings.view_pairing", can_read)
rules.add_perm("pairings.add_pairing", can_manage)
rules.add_perm("pairings.change_pairing", can_manage)
