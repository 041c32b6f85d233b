import rules

from members.rules import can_read, has_staff_role
from pairings.rules import can_change_term_policy

from . import pledge_rules, request_rules  # noqa: F401 - each adds its own permissions

rules.add_perm("visits", has_staff_role)
rules.add_perm("visits.view_visit", can_read)
rules.add_perm("visits.view_frequencyrule", has_staff_role)
# Frequency rules are part of the term's policy: the quota policy's own rule decides.
rules.add_perm("visits.add_frequencyrule", can_change_term_policy)
rules.add_perm("visits.change_frequencyrule", can_change_term_policy)
rules.add_perm("visits.delete_frequencyrule", can_change_term_policy)
