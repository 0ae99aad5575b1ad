from xinrong.riskfund.views import claims, funds, guarantees, rules, simulation

app_name = "riskfund"

urlpatterns = [
    *funds.urlpatterns,
    *rules.urlpatterns,
    *claims.urlpatterns,
    *guarantees.urlpatterns,
    *simulation.urlpatterns,
]
