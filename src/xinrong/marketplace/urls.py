from django.urls import path

from xinrong.marketplace.views import applications as application_views
from xinrong.marketplace.views import capital_market as capital_market_views
from xinrong.marketplace.views import centres as centre_views
from xinrong.marketplace.views import demands as demand_views
from xinrong.marketplace.views import guarantees as guarantee_views
from xinrong.marketplace.views import products as product_views

app_name = "marketplace"

urlpatterns = [
    path("", product_views.product_list, name="list"),
    path("export.xlsx", product_views.product_list_export, name="list_export"),
    path("compare/", product_views.product_compare, name="compare"),
    path("p/<str:code>/", product_views.product_detail, name="detail"),
    path("mine/", product_views.my_products, name="mine"),
    path("mine/export.xlsx", product_views.my_products_export, name="mine_export"),
    path("mine/new/", product_views.product_new, name="new"),
    path("manage/<int:pk>/", product_views.product_manage, name="manage"),
    path("manage/<int:pk>/edit/", product_views.product_edit, name="edit"),
    path("manage/<int:pk>/<slug:action>/", product_views.product_action, name="action"),
    path("review/", product_views.review_queue, name="review"),
    path("demands/", demand_views.my_demands, name="my_demands"),
    path("demands/export.xlsx", demand_views.my_demands_export, name="my_demands_export"),
    path("demands/hall/", demand_views.demand_hall, name="demand_hall"),
    path("demands/hall/export.xlsx", demand_views.demand_hall_export, name="demand_hall_export"),
    path("demands/new/", demand_views.demand_new, name="demand_new"),
    path("demands/held/", demand_views.demands_held, name="demands_held"),
    path("demands/held/export.xlsx", demand_views.demands_held_export, name="demands_held_export"),
    path("demands/escalated/", demand_views.demands_escalated, name="demands_escalated"),
    path("demands/<int:pk>/", demand_views.demand_detail, name="demand"),
    path("demands/<int:pk>/withdraw/", demand_views.demand_withdraw, name="demand_withdraw"),
    path("demands/<int:pk>/take/", demand_views.demand_take, name="demand_take"),
    path("demands/<int:pk>/release/", demand_views.demand_release, name="demand_release"),
    path("demands/<int:pk>/invite/", demand_views.demand_invite, name="demand_invite"),
    path("p/<str:code>/apply/", application_views.application_new, name="apply"),
    path("applications/", application_views.application_list, name="applications"),
    path(
        "applications/export.xlsx",
        application_views.application_export,
        name="applications_export",
    ),
    path("applications/<int:pk>/", application_views.application_detail, name="application_detail"),
    path(
        "applications/<int:pk>/refer/",
        application_views.application_refer,
        name="application_refer",
    ),
    path(
        "applications/<int:pk>/<slug:action>/",
        application_views.application_action,
        name="application_action",
    ),
    # columns (issue 5)
    path("first-loan/", centre_views.first_loan_centre, name="first_loan"),
    path("renewal/", centre_views.renewal_centre, name="renewal"),
    path("microloan/", centre_views.microloan_column, name="microloan"),
    path("specials/", centre_views.local_specials, name="specials"),
    path("capital-market/", capital_market_views.capital_market, name="capital_market"),
    path("capital-market/screen/", capital_market_views.reserve_screen, name="reserve_screen"),
    path("capital-market/cases/", capital_market_views.financing_cases, name="financing_cases"),
    path("capital-market/intro/", capital_market_views.reserve_intro, name="reserve_intro"),
    path("capital-market/<int:pk>/", capital_market_views.reserve_detail, name="reserve_detail"),
    path(
        "capital-market/<int:pk>/interest/",
        capital_market_views.reserve_interest,
        name="reserve_interest",
    ),
    path(
        "capital-market/<int:pk>/close/", capital_market_views.reserve_close, name="reserve_close"
    ),
    path(
        "capital-market/interests/<int:pk>/<slug:action>/",
        capital_market_views.interest_respond,
        name="interest_respond",
    ),
    path(
        "capital-market/access/<int:org_id>/",
        capital_market_views.capital_market_access,
        name="capital_market_access",
    ),
    # guarantee / insurance requests on loan applications (issue 12)
    path("guarantees/", guarantee_views.guarantee_list, name="guarantees"),
    path("guarantees/<int:pk>/", guarantee_views.guarantee_detail, name="guarantee_detail"),
    path(
        "guarantees/<int:pk>/<slug:action>/",
        guarantee_views.guarantee_action,
        name="guarantee_action",
    ),
    path(
        "guarantees/for-application/<int:pk>/",
        guarantee_views.guarantee_file,
        name="guarantee_file",
    ),
]
