"""Read-only views of the evaluation for the admin: results and the trail of grade changes.

Everything is written through the pages (the score sheet, the job, the adjustment form),
so that the rules there hold; survey links and exports are not listed at all, since a
link is a key to answer with and an export holds one user's personal data.
"""

from django.contrib import admin
from django.db.models import QuerySet

from liaison.admin import ReadOnlyAdmin, admin_site

from . import selectors
from .models import Evaluation, GradeAdjustment


@admin.register(Evaluation, site=admin_site)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ["member", "organisation", "term", "score", "computed_grade", "adjusted_grade", "accountability"]
    list_filter = ["term", "computed_grade", "adjusted_grade", "accountability"]
    search_fields = ["member__name"]

    def get_queryset(self, request) -> QuerySet[Evaluation]:
        return selectors.evaluation_list(user=request.user)


@admin.register(GradeAdjustment, site=admin_site)
class GradeAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ["at", "evaluation", "from_grade", "to_grade", "reason", "by"]
    list_filter = ["to_grade"]
    date_hierarchy = "at"
    search_fields = ["evaluation__member__name", "by__username"]

    def get_queryset(self, request) -> QuerySet[GradeAdjustment]:
        scope = request.scope
        return GradeAdjustment.objects.filter(
            scope.subtree_q(scope.read_paths, prefix="evaluation__organisation__")
        ).select_related("evaluation__member", "evaluation__term", "by")
