from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tuidang.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from tuidang.accounts.adapter import SecretStore
        from tuidang.accounts.metrics import count_login_failure
        from tuidang.vault.stores import sealed_store_register

        sealed_store_register(SecretStore())
        user_login_failed.connect(count_login_failure, dispatch_uid="accounts.login_failures")
