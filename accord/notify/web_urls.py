"""The notification pages and the per-subscription feeds (included from accord/urls.py)."""

from django.urls import URLPattern, path

from accord.notify import feeds

urlpatterns: list[URLPattern] = [
    path("feeds/s/<str:token>/subscription.<str:fmt>", feeds.subscription_feed, name="notify-feed"),
    path(
        "feeds/s/<str:token>/alerts/<uuid:record_uuid>/<int:seq>.cap",
        feeds.subscription_feed_cap,
        name="notify-feed-cap",
    ),
    path(
        "feeds/t/<str:token>/subscriptions/<uuid:subscription_uuid>.<str:fmt>",
        feeds.token_feed,
        name="notify-token-feed",
    ),
    path(
        "feeds/t/<str:token>/subscriptions/<uuid:subscription_uuid>/alerts/<uuid:record_uuid>/<int:seq>.cap",
        feeds.token_feed_cap,
        name="notify-token-feed-cap",
    ),
]
