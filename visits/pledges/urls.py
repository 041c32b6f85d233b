from django.urls import path

from . import views

app_name = "pledges"

urlpatterns = [
    path("pledges/", views.pledge_list, name="pledge_list"),
    path("pledges/new/", views.pledge_create, name="pledge_create"),
    path("pledges/review/", views.pledge_review, name="pledge_review"),
    path("pledges/<int:pledge_id>/", views.pledge_detail, name="pledge_detail"),
    path("pledges/<int:pledge_id>/public/", views.pledge_make_public, name="pledge_make_public"),
    path("pledges/<int:pledge_id>/progress/", views.pledge_progress, name="pledge_progress"),
    path("pledges/<int:pledge_id>/report/", views.pledge_report, name="pledge_report"),
    path("pledges/<int:pledge_id>/evaluate/", views.pledge_evaluate, name="pledge_evaluate"),
    path("posts/", views.post_list, name="post_list"),
    path("posts/manage/", views.post_manage, name="post_manage"),
    path("posts/new/", views.post_create, name="post_create"),
    path("posts/<int:post_id>/claim/", views.post_claim, name="post_claim"),
    path("posts/<int:post_id>/release/", views.post_release, name="post_release"),
    path("posts/<int:post_id>/toggle/", views.post_toggle, name="post_toggle"),
    path("registrations/", views.registration_list, name="registration_list"),
    path("registrations/new/", views.registration_create, name="registration_create"),
    path("registrations/mine/", views.registration_mine, name="registration_mine"),
    path("board/<str:code>/", views.public_board, name="public_board"),
]
