from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tuidang.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from tuidang.accounts.adapter import SecretStore
        from tuidang.vault.stores import sealed_store_register

        sealed_store_register(SecretStore())
