from django.urls import path

from tuidang.public import data, declare, statements, views

app_name = "public"

urlpatterns = [
    path("", views.home, name="home"),
    path("verify", views.verify, name="verify"),
    path("verify/proof", views.verify_bundle, name="verify-proof"),
    path("declare", declare.declare, name="declare"),
    path("statements", statements.statement_list, name="statements"),
    path("statements/<int:statement_id>", statements.statement_detail, name="statement"),
    path("numbers", data.numbers, name="numbers"),
    path("history", data.history, name="history"),
    path("data/", data.data_index, name="data"),
    path("data/totals.json", data.totals_json, name="data-totals"),
    path("data/daily.csv", data.daily_counts_csv, name="data-daily"),
    path("data/statements.jsonl", data.statements_jsonl, name="data-statements"),
]
