import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from tuidang.config.env import private_files

private_files()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tuidang.config.settings")
# Every desk polls once a second: one whose state did not change is answered before
# Django's request handling (desk/poll.py). In the pool for people, a refused login
# waits on a thread kept for waiting before it is answered (accounts/tarpit.py).
django_application = get_wsgi_application()
from tuidang.accounts.tarpit import login_tarpit  # noqa: E402 - after the apps are loaded
from tuidang.desk.poll import wsgi_shortcut  # noqa: E402

application = login_tarpit(wsgi_shortcut(django_application))

# Everything loaded now (Django, the apps, their libraries, and the URLs with every view,
# which the first request would otherwise import) lives as long as the process. Frozen,
# the garbage collector's full passes skip it: without this, such a pass stops a server
# process for some 50 ms every few thousand requests.
get_resolver().url_patterns  # noqa: B018 - imported for its side effect
gc.freeze()
