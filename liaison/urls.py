from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path

from members.admin import admin_site

urlpatterns = [
    path("admin/", admin_site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("pairings/", include("pairings.urls")),
    path("work/", include("visits.urls")),
    path("", include("members.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
