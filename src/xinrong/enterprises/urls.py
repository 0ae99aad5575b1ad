from django.urls import path

from xinrong.enterprises import views

app_name = "enterprises"

urlpatterns = [
    path("", views.entity_list, name="list"),
    path("register/", views.enterprise_register, name="register"),
    path("<str:uscc>/", views.entity_detail, name="detail"),
    path("<str:uscc>/login/", views.entity_login_issue, name="login_issue"),
]
