"""What the outbox list shows of a patient: initials and birth year, from the signed record."""

from __future__ import annotations

import pytest

from proclient.core.domain import BirthDate, IdentitySource, Sex
from proclient.core.identity import HeldIdentity
from proclient.outbox.port import patient_mask


def held(last: str, first: str, born: str) -> HeldIdentity:
    return HeldIdentity(last, first, BirthDate(born), Sex.FEMALE, None, IdentitySource.TYPED)


@pytest.mark.parametrize(
    ("last", "first", "born", "mask"),
    [
        ("LE GOFF", "Gérard", "19520314", "L. G. 1952"),
        ("CASANOVA-ORSINI", "Marie-Ange", "19910905", "C. M. 1991"),
        ("ébrard", "élodie", "19800101", "É. É. 1980"),  # typed in lower case
        ("N'DIAYE", "Awa", "19550000", "N. A. 1955"),  # lunar date: the year as read
        ("SMITH", "", "00000000", "S. 0000"),  # no given name; an unknown year as read
        ("SMITH", "John", "19", "S. J. ?"),  # no year to read
    ],
)
def test_initials_and_birth_year_only(last, first, born, mask):
    assert patient_mask(held(last, first, born)) == mask


def test_the_list_carries_the_mask_of_the_signed_record(outbox, credential, minor_request):
    from proclient.outbox.entry import capture

    entry = capture(*minor_request, credential)
    entry_id = outbox.put(entry)
    [summary] = outbox.list()
    assert summary.id == entry_id
    assert summary.patient == patient_mask(entry.capture.held)
    assert entry.capture.held.last_name not in summary.patient
