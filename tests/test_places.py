"""Places of birth by name (proclient.core.places, DOMAIN.md §8): a town or a country typed,
INSi's INSEE code of the commune *at the date of birth* out, from the COG shipped in the
package. The examples are real movements of the COG, checked in the data:

- Annecy-le-Vieux (74011) became a commune déléguée of Annecy (74010) on 2017-01-01;
- Hainneville (50226) merged into Équeurdreville-Hainneville (50173) on 1965-01-01, which
  became part of Cherbourg-en-Cotentin (50129) on 2016-01-01;
- Corsica was split into 2A and 2B on 1976-01-01 (Ajaccio 20004 → 2A004);
- Boulogne-Billancourt moved from the Seine (75012) to the Hauts-de-Seine (92012) in 1968.
"""

from __future__ import annotations

from datetime import date

import pytest

from proclient.core import places
from proclient.core.domain import BirthDate, DomainError, Sex
from proclient.core.identity import traits_query
from proclient.core.places import COMMUNE, COUNTRY, resolve, resolve_birthplace, search
from proclient.core.typed import typed_identity

B1980 = BirthDate("19800101")
B2020 = BirthDate("20200101")


def refusal(text: str, born: BirthDate | None) -> str:
    with pytest.raises(DomainError) as caught:
        resolve_birthplace(text, born)
    assert caught.value.code == "BIRTHPLACE"
    return caught.value.message


# --- names to codes -----------------------------------------------------------------------------


def test_a_town_by_name_gives_its_code():
    assert resolve_birthplace("Toulouse", B1980) == "31555"
    assert resolve("Toulouse", B1980).describe() == "Toulouse (31) — code 31555"


@pytest.mark.parametrize(
    "typed",
    [
        "Saint-Étienne (42)",
        "saint etienne (42)",
        "SAINT-ETIENNE (42)",
        "St-Étienne (42)",
        "st etienne 42",
        "  Saint‑Étienne   (42) ",
    ],
)
def test_accents_case_hyphens_and_st_are_optional(typed):
    assert resolve_birthplace(typed, B1980) == "42218"


def test_apostrophes_and_ligatures_are_optional():
    assert resolve_birthplace("l'hay les roses", B1980) == "94038"
    assert resolve_birthplace("L’Haÿ-les-Roses", B1980) == "94038"
    assert resolve_birthplace("annoeullin", B1980) == "59011"  # Annœullin


def test_a_commune_merged_since_keeps_its_code_of_then():
    # Annecy-le-Vieux became a commune déléguée of Annecy on 2017-01-01.
    assert resolve_birthplace("Annecy-le-Vieux", B1980) == "74011"
    assert resolve_birthplace("Annecy-le-Vieux", BirthDate("20161231")) == "74011"
    assert resolve_birthplace("Annecy-le-Vieux", BirthDate("20170101")) == "74010"
    resolution = resolve("Annecy-le-Vieux (74)", B2020)
    assert resolution.code == "74010" and resolution.commune == "Annecy"
    assert "Annecy" in resolution.describe() and "74010" in resolution.describe()


def test_a_lunar_date_reads_the_year():
    assert resolve_birthplace("Annecy-le-Vieux", BirthDate("20160000")) == "74011"
    assert resolve_birthplace("Annecy-le-Vieux", BirthDate("20170000")) == "74010"
    assert resolve_birthplace("Annecy-le-Vieux", BirthDate("20161200")) == "74011"


def test_a_commune_absorbed_twice_follows_its_communes():
    assert resolve_birthplace("Hainneville", BirthDate("19600101")) == "50226"
    assert resolve_birthplace("Hainneville", B1980) == "50173"  # Équeurdreville-Hainneville
    assert resolve_birthplace("Hainneville", B2020) == "50129"  # Cherbourg-en-Cotentin


def test_a_commune_created_after_the_birth_is_refused_with_the_communes_of_then():
    message = refusal("Cherbourg-en-Cotentin", B1980)
    assert "n'existait pas encore en 1980" in message
    assert "Cherbourg-Octeville" in message
    assert resolve_birthplace("Cherbourg-en-Cotentin", B2020) == "50129"


def test_a_change_of_departement_gives_the_code_of_then():
    assert resolve_birthplace("Boulogne-Billancourt", BirthDate("19600101")) == "75012"
    assert resolve_birthplace("Boulogne-Billancourt", B1980) == "92012"
    # The label suggested today still reads for a birth before 1968.
    assert resolve_birthplace("Boulogne-Billancourt (92)", BirthDate("19600101")) == "75012"


def test_corsica_2a_2b_since_1976():
    assert resolve_birthplace("Ajaccio", B1980) == "2A004"
    assert resolve_birthplace("Bastia (2B)", B1980) == "2B033"
    assert resolve_birthplace("Ajaccio", BirthDate("19700101")) == "20004"
    assert resolve_birthplace("2a004", B1980) == "2A004"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Maroc", "99350"),
        ("maroc (pays)", "99350"),
        ("Algérie", "99352"),
        ("algerie", "99352"),
        ("Tunisie", "99351"),
        ("Portugal", "99139"),
        ("Angleterre", "99132"),
    ],
)
def test_countries_give_99_codes(typed, code):
    assert resolve_birthplace(typed, BirthDate("19550000")) == code


def test_a_country_resolution_says_so():
    resolution = resolve("Maroc", None)
    assert resolution.place.kind == COUNTRY
    assert resolution.describe() == "Maroc (pays) — code 99350"


# --- refusals -----------------------------------------------------------------------------------


def test_several_communes_of_one_name_ask_for_the_departement():
    message = refusal("Saint-Denis", B1980)
    assert "département" in message
    assert "« Saint-Denis (93) »" in message and "« Saint-Denis (974) »" in message
    assert resolve_birthplace("Saint-Denis (93)", B1980) == "93066"
    assert resolve_birthplace("Saint-Denis (974)", B1980) == "97411"


def test_a_wrong_departement_is_named():
    message = refusal("Toulouse (33)", B1980)
    assert "département 33" in message


def test_an_unknown_name_is_refused_in_one_sentence():
    message = refusal("Xyzzyville", B1980)
    assert message.startswith("Lieu de naissance inconnu : « Xyzzyville »")
    assert "code INSEE" in message


def test_an_unknown_name_close_to_known_ones_offers_them():
    message = refusal("Toulous", B1980)
    assert "« Toulouse (31) »" in message


def test_a_mistyped_code_is_named_as_a_code():
    assert "5 caractères" in refusal("7505", B1980)


def test_paris_marseille_lyon_ask_for_the_arrondissement():
    assert "arrondissement" in refusal("Paris", B1980)
    assert "arrondissement" in refusal("Marseille (13)", B1980)
    assert resolve_birthplace("Paris 12e", B1980) == "75112"
    assert resolve_birthplace("paris 12", B1980) == "75112"
    assert resolve_birthplace("Paris 12e Arrondissement (75)", B1980) == "75112"
    assert resolve_birthplace("Lyon 1er", B1980) == "69381"


def test_empty_is_none_and_codes_pass_as_typed():
    assert resolve_birthplace("", B1980) is None
    assert resolve_birthplace("   ", B1980) is None
    assert resolve(None, B1980) is None
    assert resolve_birthplace("75056", B1980) == "75056"  # a code typed is the professional's
    assert resolve_birthplace("99350", None) == "99350"


# --- completion ---------------------------------------------------------------------------------


def test_search_completes_a_prefix_accents_optional():
    labels = [place.label for place in search("saint eti", B1980)]
    assert labels[0] == "Saint-Étienne (42)"
    assert [p.label for p in search("st eti", B1980)][0] == "Saint-Étienne (42)"
    assert search("tou", B1980)[0].label == "Toulouse (31)"
    assert search("havre", B1980)[0].label == "Le Havre (76)"  # the article is optional
    assert search("alg", B1980)[0].label == "Algérie (pays)"


def test_search_puts_the_places_of_the_birth_date_first():
    then = search("annecy", B1980, limit=20)
    assert then[0].name == "Annecy" and then[0].valid_to == date(2017, 1, 1)
    old = next(p for p in then if p.name == "Annecy-le-Vieux")
    assert old.kind == COMMUNE and old.code == "74011" and old.birthplace == "74011"
    assert old.valid_to == date(2017, 1, 1)
    now = next(p for p in search("annecy-le", B2020) if p.name == "Annecy-le-Vieux")
    assert now.birthplace == "74010" and now.valid_from == date(2017, 1, 1)


def test_search_suggests_arrondissements_rather_than_their_city():
    labels = [place.label for place in search("paris", B1980, limit=30)]
    assert "Paris (75)" not in labels and "Paris 12e Arrondissement (75)" in labels


def test_every_suggestion_resolves_back():
    for prefix in ("sain", "bou", "mar", "ann", "port"):
        for place in search(prefix, B1980, limit=10):
            assert resolve_birthplace(place.label, B1980) == place.birthplace, place


def test_data_vintage_is_recorded():
    vintage = places.data_vintage()
    assert vintage.year == 2026
    assert 34_000 < vintage.communes < 36_000
    assert vintage.countries > 200
    assert any("decoupage-administratif" in source for source in vintage.sources)
    assert "millésime 2026" in vintage.describe()


# --- where the birthplace is read ----------------------------------------------------------------


def test_typed_identity_reads_a_town_at_the_birth_date():
    today = date(2026, 6, 1)
    held = typed_identity("Martin", "Marie", "01/01/1970", "", today, "F", "Toulouse")
    assert held.birthplace == "31555"
    held = typed_identity("Martin", "Marie", "00/00/1980", "", today, "F", "Annecy-le-Vieux")
    assert held.birthplace == "74011"
    with pytest.raises(DomainError) as caught:
        typed_identity("Martin", "Marie", "01/01/1970", "", today, "F", "Saint-Denis")
    assert caught.value.code == "BIRTHPLACE"


def test_traits_query_reads_a_town_at_the_birth_date():
    query = traits_query("Martin", "Marie", Sex.FEMALE, BirthDate("20200315"), "Annecy-le-Vieux")
    assert query.birthplace == "74010"
    query = traits_query("Ben Saïd", "Karim", Sex.MALE, BirthDate("19550000"), "Maroc")
    assert query.birthplace == "99350"


def test_doctor_shows_the_vintage():
    from proclient.commands.doctor import check_places

    ok, line = check_places()
    assert ok and line.startswith("Code officiel géographique : millésime 2026 (INSEE)")
    assert "pays" in line
