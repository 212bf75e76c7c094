import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
django_application = get_asgi_application()

# Imported once Django is set up: federation requests are answered without Django's handler (federation/asgi.py).
from accord.federation.asgi import route  # noqa: E402

application = route(django_application)
