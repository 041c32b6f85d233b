import rules

from members.rules import can_administer, can_manage, can_read, has_staff_role


@rules.predicate
def can_change_term_policy(user, obj=None) -> bool:
    """May this user change the term's policy: its quota rules and its frequency rules alike?

    Policies belong to a term, and terms to a tree's root: its administrators set them.
    `obj` is the policy or anything hanging from it (a quota rule, a frequency rule).
    """
    term = getattr(obj, "term", None) or getattr(getattr(obj, "policy", None), "term", None)
    return can_administer(user, term.organisation if term is not None else None)


@rules.predicate
def can_administer_term_itself(user, obj=None) -> bool:
    return can_administer(user, obj.organisation if obj is not None else None)


rules.add_perm("pairings", has_staff_role)
# Terms and policies are read by everyone working in the tree; querysets are scoped.
rules.add_perm("pairings.view_term", has_staff_role)
rules.add_perm("pairings.add_term", can_administer)
rules.add_perm("pairings.change_term", can_administer_term_itself)
rules.add_perm("pairings.view_pairing", can_read)
rules.add_perm("pairings.add_pairing", can_manage)
rules.add_perm("pairings.change_pairing", can_manage)

rules.add_perm("pairings.view_quotapolicy", has_staff_role)
rules.add_perm("pairings.change_quotapolicy", can_change_term_policy)
rules.add_perm("pairings.view_quotarule", has_staff_role)
rules.add_perm("pairings.add_quotarule", can_change_term_policy)
rules.add_perm("pairings.change_quotarule", can_change_term_policy)
rules.add_perm("pairings.delete_quotarule", can_change_term_policy)
rules.add_perm("pairings.view_quotaoverride", can_read)
rules.add_perm("pairings.add_quotaoverride", can_manage)
rules.add_perm("pairings.change_quotaoverride", can_manage)
rules.add_perm("pairings.delete_quotaoverride", can_manage)
# Frequency rules are part of the term's policy: the quota policy's own rule decides.
rules.add_perm("pairings.view_frequencyrule", has_staff_role)
rules.add_perm("pairings.add_frequencyrule", can_change_term_policy)
rules.add_perm("pairings.change_frequencyrule", can_change_term_policy)
rules.add_perm("pairings.delete_frequencyrule", can_change_term_policy)
