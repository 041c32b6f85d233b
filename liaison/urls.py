from django.contrib.auth import views as auth_views
from django.urls import include, path

from liaison import views
from liaison.admin import admin_site
from liaison.login import LoginForm
from members import urls as member_urls
from reports.views import survey_answer

# The members namespace: members' own pages, and the contact pages that also show pairings
# and visits (liaison/views.py, so that members imports no app above it).
member_pages = [
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/<int:contact_id>/", views.contact_detail, name="contact_detail"),
    *member_urls.urlpatterns,
]

urlpatterns = [
    path("admin/", admin_site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", include("liaison.security.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("pairings/", include("pairings.urls")),
    path("work/", include("visits.urls")),
    path("work/", include("visits.requests.urls")),
    path("work/", include("visits.pledges.urls")),
    path("work/", include("visits.notifications.urls")),
    path("reports/", include("reports.urls")),
    # Short, for QR codes: the public's satisfaction survey, no login.
    path("s/<str:token>/", survey_answer, name="survey_answer"),
    path("", views.home, name="home"),
    path("", include((member_pages, member_urls.app_name))),
]

# Error pages in the site's layout (templates/400.html … 500.html); see liaison/errors.py.
handler400 = "django.views.defaults.bad_request"
handler403 = "liaison.errors.permission_denied"
handler404 = "django.views.defaults.page_not_found"
handler500 = "liaison.errors.server_error"
