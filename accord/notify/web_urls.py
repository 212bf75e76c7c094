"""The notification pages and the per-subscription feeds (included from accord/urls.py)."""

from django.urls import URLPattern, path

from accord.notify import feeds, views

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

urlpatterns += [
    path("notifications/", views.subscriptions, name="notify-subscriptions"),
    path("notifications/channels/", views.add_channel, name="notify-channel-add"),
    path("notifications/channels/<uuid:channel_uuid>/test/", views.test_channel, name="notify-channel-test"),
    path("notifications/channels/<uuid:channel_uuid>/remove/", views.remove_channel, name="notify-channel-remove"),
    path("notifications/channels/<uuid:channel_uuid>/enable/", views.enable_channel, name="notify-channel-enable"),
    path("notifications/subscriptions/new/", views.edit_subscription, name="notify-subscription-new"),
    # The organisation's own, for its administrators; its subscriptions are then edited at the same addresses.
    path(
        "notifications/organisation/channels/",
        views.add_channel,
        {"for_organisation": True},
        name="notify-org-channel-add",
    ),
    path(
        "notifications/organisation/subscriptions/new/",
        views.edit_subscription,
        {"for_organisation": True},
        name="notify-org-subscription-new",
    ),
    path(
        "notifications/subscriptions/<uuid:subscription_uuid>/",
        views.edit_subscription,
        name="notify-subscription-edit",
    ),
    path(
        "notifications/subscriptions/<uuid:subscription_uuid>/remove/",
        views.remove_subscription,
        name="notify-subscription-remove",
    ),
    path(
        "notifications/subscriptions/<uuid:subscription_uuid>/feed/",
        views.feed_token,
        name="notify-subscription-feed",
    ),
    path(
        "notifications/subscriptions/<uuid:subscription_uuid>/feed/withdraw/",
        views.withdraw_feed_token,
        name="notify-subscription-feed-withdraw",
    ),
    path("notifications/deliveries/", views.delivery_logs, name="notify-delivery-logs"),
    path("notifications/deliveries/<uuid:record_uuid>/", views.delivery_log, name="notify-delivery-log"),
]
