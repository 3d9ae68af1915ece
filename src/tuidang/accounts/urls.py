"""The account pages: allauth's login, logout, password and second-factor views.

Only the views the hotline uses are routed: accounts are made by administrators, so there
is no signup, and volunteers have no email address to reset a password or sign in by.
"""

from allauth.account import views as account_views
from django.urls import include, path

urlpatterns = [
    # The project's own names, used by templates, LOGIN_URL and tests.
    path("login/", account_views.login, name="login"),
    path("logout/", account_views.logout, name="logout"),
    # allauth's names for the same pages, which allauth's own views and templates reverse.
    path("login/", account_views.login, name="account_login"),
    path("logout/", account_views.logout, name="account_logout"),
    path("inactive/", account_views.account_inactive, name="account_inactive"),
    path("reauthenticate/", account_views.reauthenticate, name="account_reauthenticate"),
    path("password/change/", account_views.password_change, name="account_change_password"),
    path("2fa/", include("allauth.mfa.urls")),
]
