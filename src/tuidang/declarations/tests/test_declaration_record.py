"""declaration_record: what every recorded renunciation must carry."""

import pytest

from tuidang.calls.services import call_receive
from tuidang.declarations.models import Declaration
from tuidang.declarations.services import Person, declaration_record
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, HotlineNumbers
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("alias", ["", " ", "\t\n", "\u3000"])
def test_no_declaration_is_recorded_without_a_name_to_check_its_receipt_with(
    numbers: HotlineNumbers, mei: Volunteer, alias: str
) -> None:
    call = call_receive(provider_sid="CA-nameless", caller_from=CALLER, dialled=BANKNOTES_LINE)
    assert call is not None
    with pytest.raises(ValueError, match="name"):
        declaration_record(
            call=call,
            people=[Person(alias=alias, organizations=frozenset({"party"}))],
            recorded_by=mei.user,
        )
    assert not Declaration.objects.exists()
