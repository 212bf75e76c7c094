from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The operations desk: what waits for me, one map of everything current, and search across all records.
    It reads through each domain app's queries (and the record core's audience filter); it writes nothing."""

    name = "accord.desk"
    label = "desk"
