from django.urls import path

from . import views

app_name = "pairings"

urlpatterns = [
    path("board/", views.board, name="board"),
    path("board/recompute/", views.board_recompute, name="board_recompute"),
    path("matching/", views.matching_start, name="matching_start"),
    path("matching/<int:run_id>/", views.matching_detail, name="matching_detail"),
    path("matching/<int:run_id>/again/", views.matching_repeat, name="matching_repeat"),
    path("members/<int:member_id>/pair/", views.member_pair, name="member_pair"),
    path("members/<int:member_id>/quota/", views.quota_override, name="quota_override"),
    path("<int:pairing_id>/end/", views.pairing_end, name="pairing_end"),
    path("terms/open/", views.term_open, name="term_open"),
]
