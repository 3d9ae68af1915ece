"""The telephony providers' webhooks, and the recorded prompts they play.

One folder per provider. A provider whose class is ``tuidang.telephony.<folder>.<module>.
<Class>`` and that has webhooks keeps their URLconf in ``<folder>/webhooks.py``; it is
served under ``/telephony/<name>/``, its name in ``settings.TELEPHONY_PROVIDERS``. So a
new provider is its folder and its line there.
"""

from importlib.util import find_spec

from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path

from tuidang.telephony import views as public_views

app_name = "telephony"

urlpatterns: list[URLPattern | URLResolver] = [
    # Recorded prompts, fetched by the provider for <Play>: public, like the prompts.
    path("prompts/<int:prompt_id>/audio", public_views.prompt_audio, name="prompt-audio"),
]
for _name, _class_path in settings.TELEPHONY_PROVIDERS.items():
    _webhooks = _class_path.rsplit(".", 2)[0] + ".webhooks"
    if find_spec(_webhooks) is not None:
        urlpatterns.append(path(f"{_name}/", include(_webhooks)))
