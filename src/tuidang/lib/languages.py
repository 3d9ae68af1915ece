from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    """Languages callers are answered in (ISO 639-3 codes: Mandarin and Cantonese differ)."""

    MANDARIN = "cmn", _("Mandarin")
    CANTONESE = "yue", _("Cantonese")
    ENGLISH = "en", _("English")


# The language tag a text-to-speech engine needs to pronounce each language.
SPEECH_TAGS = {
    Language.MANDARIN: "cmn-CN",
    Language.CANTONESE: "yue-HK",
    Language.ENGLISH: "en-US",
}
