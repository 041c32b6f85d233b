import rules

from members.rules import can_read, has_staff_role


@rules.predicate
def can_read_adjustment(user, obj=None) -> bool:
    return can_read(user, obj.evaluation if obj is not None else None)


rules.add_perm("reports", has_staff_role)
rules.add_perm("reports.view_evaluation", can_read)
rules.add_perm("reports.view_gradeadjustment", can_read_adjustment)
