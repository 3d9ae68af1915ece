from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tuidang.accounts"
    label = "accounts"
    verbose_name = "Accounts"
