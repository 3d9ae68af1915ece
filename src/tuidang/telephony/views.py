from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from tuidang.calls.models import NumberPrompt


@require_GET
def prompt_audio(request: HttpRequest, prompt_id: int) -> FileResponse:
    """A recorded prompt, for the provider's <Play>. Prompts are what every caller hears."""
    prompt = get_object_or_404(NumberPrompt, pk=prompt_id)
    if not prompt.recording:
        raise Http404
    response = FileResponse(prompt.recording.open("rb"))
    response["Cache-Control"] = "public, max-age=300"
    return response
