from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cxprogram.accounts"
    label = "accounts"
    verbose_name = "Accounts"
