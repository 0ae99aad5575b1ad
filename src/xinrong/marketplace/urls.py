from django.urls import path

from xinrong.marketplace import views

app_name = "marketplace"

urlpatterns = [
    path("", views.product_list, name="list"),
    path("compare/", views.product_compare, name="compare"),
    path("p/<str:code>/", views.product_detail, name="detail"),
    path("mine/", views.my_products, name="mine"),
    path("mine/new/", views.product_new, name="new"),
    path("manage/<int:pk>/", views.product_manage, name="manage"),
    path("manage/<int:pk>/edit/", views.product_edit, name="edit"),
    path("manage/<int:pk>/<slug:action>/", views.product_action, name="action"),
    path("review/", views.review_queue, name="review"),
    path("demands/", views.my_demands, name="my_demands"),
    path("demands/hall/", views.demand_hall, name="demand_hall"),
    path("demands/new/", views.demand_new, name="demand_new"),
    path("demands/held/", views.demands_held, name="demands_held"),
    path("demands/escalated/", views.demands_escalated, name="demands_escalated"),
    path("demands/<int:pk>/", views.demand_detail, name="demand"),
    path("demands/<int:pk>/withdraw/", views.demand_withdraw, name="demand_withdraw"),
    path("demands/<int:pk>/take/", views.demand_take, name="demand_take"),
    path("demands/<int:pk>/release/", views.demand_release, name="demand_release"),
    path("p/<str:code>/apply/", views.application_new, name="apply"),
    path("applications/", views.application_list, name="applications"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/refer/", views.application_refer, name="application_refer"),
    path(
        "applications/<int:pk>/<slug:action>/",
        views.application_action,
        name="application_action",
    ),
    # columns (issue 5)
    path("first-loan/", views.first_loan_centre, name="first_loan"),
    path("renewal/", views.renewal_centre, name="renewal"),
    path("microloan/", views.microloan_column, name="microloan"),
    path("specials/", views.local_specials, name="specials"),
    path("capital-market/", views.capital_market, name="capital_market"),
    path("capital-market/screen/", views.reserve_screen, name="reserve_screen"),
    path("capital-market/cases/", views.financing_cases, name="financing_cases"),
    path("capital-market/intro/", views.reserve_intro, name="reserve_intro"),
    path("capital-market/<int:pk>/", views.reserve_detail, name="reserve_detail"),
    path("capital-market/<int:pk>/interest/", views.reserve_interest, name="reserve_interest"),
    path("capital-market/<int:pk>/close/", views.reserve_close, name="reserve_close"),
    path(
        "capital-market/interests/<int:pk>/<slug:action>/",
        views.interest_respond,
        name="interest_respond",
    ),
]
