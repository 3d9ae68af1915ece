import os

from django.core.asgi import get_asgi_application

from tuidang.config.env import private_files

private_files()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tuidang.config.settings")
application = get_asgi_application()
