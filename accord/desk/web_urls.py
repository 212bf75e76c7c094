from django.urls import URLPattern, path

from accord.desk import views

urlpatterns: list[URLPattern] = [
    path("", views.desk, name="home"),
    path("desk/", views.desk, name="desk"),
    path("map/", views.map_page, name="map"),
    path("search/", views.search_page, name="search"),
]
