from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from tuidang.declarations.receipts import Confirmation, Pending, receipt_confirm
from tuidang.declarations.selectors import public_totals
from tuidang.lib.replica import replica_reads
from tuidang.public.cache import cached, page
from tuidang.public.data import history_charts, public_numbers
from tuidang.public.forms import ProofBundleForm, ReceiptForm
from tuidang.tlog.bundles import BadBundle, ProvenEntry, bundle_verify
from tuidang.tlog.note import Verifier
from tuidang.tlog.selectors import witnessing
from tuidang.tlog.services import verifier_key
from tuidang.tlog.witnessing import configured_witnesses, witness_quorum


@require_GET
@replica_reads  # the public total may lag the primary by the replication lag
def home(request: HttpRequest) -> HttpResponse:
    def context() -> dict[str, object]:
        return {
            "totals": cached("totals", public_totals, per_language=False),
            "log_key": verifier_key(),
            "witnessing": witnessing(),
            "numbers": public_numbers(),
            "charts": history_charts(),
        }

    return page(request, "home", "public/home.html", context)


@require_http_methods(["GET", "POST"])
@never_cache
@replica_reads  # reads only: the receipt is checked, nothing is recorded
def verify(request: HttpRequest) -> HttpResponse:
    """A declarant checks with their receipt that their declaration is in the log.
    POST, so that the alias never lands in a URL, a log line or a browser's history."""
    form = ReceiptForm(request.POST or None)
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    return _verify_page(request, form=form, bundle_form=ProofBundleForm(), status=status)


def _verify_page(
    request: HttpRequest,
    *,
    form: ReceiptForm,
    bundle_form: ProofBundleForm,
    status: int,
    **bundle_context: object,
) -> HttpResponse:
    found: Confirmation | Pending | None = None
    failed = False
    if request.method == "POST" and form.is_valid():
        found = receipt_confirm(
            index=form.cleaned_data["certificate"],
            code=form.cleaned_data["code"],
            alias=form.cleaned_data["alias"],
        )
        failed = found is None
    context = {
        "form": form,
        "confirmation": found if isinstance(found, Confirmation) else None,
        "pending": found if isinstance(found, Pending) else None,
        "hotline_time_zone": settings.HOTLINE_TIME_ZONE,
        "failed": failed,
        "log_key": verifier_key(),
        "bundle_form": bundle_form,
        "witnesses": configured_witnesses(),
        **bundle_context,
    }
    return render(request, "public/verify.html", context, status=status)


@csrf_exempt  # checked below, once the size is known not to be too large to read
@require_http_methods(["POST"])
@never_cache
def verify_bundle(request: HttpRequest) -> HttpResponse:
    """An uploaded proof bundle checked as `tuidang verify-receipt` checks it: against this
    hotline's log key and its witnesses' keys, with no request made. A body larger than a
    bundle can be is refused before it is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > ProofBundleForm.MAX_BYTES + 4096:  # room for the form's own fields
        bundle_form = ProofBundleForm()
        return _verify_page(
            request, form=ReceiptForm(), bundle_form=bundle_form, status=413, too_large=True
        )
    return _verify_bundle_checked(request)


@csrf_protect
def _verify_bundle_checked(request: HttpRequest) -> HttpResponse:
    bundle_form = ProofBundleForm(request.POST, request.FILES)
    if not bundle_form.is_valid():
        return _verify_page(request, form=ReceiptForm(), bundle_form=bundle_form, status=400)
    witnesses = configured_witnesses()
    quorum = witness_quorum(witnesses)
    proven: ProvenEntry | None = None
    reason = ""
    try:
        proven = bundle_verify(
            bundle_form.cleaned_data["bundle"],
            log_key=Verifier.parse(verifier_key()),
            witnesses=[witness.key for witness in witnesses],
            quorum=0,  # counted below, to say how many cosigned
        )
    except BadBundle as exc:
        reason = str(exc)
    witnessed = proven is not None and len(proven.cosigned_by) >= quorum
    return _verify_page(
        request,
        form=ReceiptForm(),
        bundle_form=ProofBundleForm(),
        status=200,
        proven=proven,
        bundle_failed=reason,
        bundle_witnessed=witnessed,
        quorum=quorum,
        entry_text=proven.entry.decode(errors="replace") if proven else "",
    )
