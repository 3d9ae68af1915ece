from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "tuidang.vault"
    label = "vault"
    verbose_name = "Data keys"
