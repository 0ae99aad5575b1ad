from xinrong.policies.views import catalogue, evidence, funds, matching, pboc, subsidy

app_name = "policies"

urlpatterns = [
    *catalogue.urlpatterns,
    *matching.urlpatterns,
    *funds.urlpatterns,
    *pboc.urlpatterns,
    *subsidy.urlpatterns,
    *evidence.urlpatterns,
]
