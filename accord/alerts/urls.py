from django.urls import URLPattern, path

from accord.alerts import feeds

urlpatterns: list[URLPattern] = [
    path("feeds/alerts.<str:fmt>", feeds.public_feed, name="feed-public"),
    path("feeds/alerts/<uuid:record_uuid>.cap", feeds.public_cap, name="feed-cap"),
    path("feeds/t/<str:token>/alerts.<str:fmt>", feeds.token_feed, name="feed-token"),
    path("feeds/t/<str:token>/alerts/<uuid:record_uuid>.cap", feeds.token_cap, name="feed-token-cap"),
]
