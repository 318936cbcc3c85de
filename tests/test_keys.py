import pytest

from kb.keys import keys_for


@pytest.mark.parametrize("spelling", ["Gottingen", "Goettingen", "Göttingen", "GÖTTINGEN"])
def test_every_spelling_of_goettingen_shares_a_key(spelling):
    city_keys = set(keys_for("Göttingen", "Gottingen", "Goettingen", "哥廷根"))
    assert set(keys_for(spelling)) & city_keys, spelling


def test_chinese_names_are_transliterated_to_pinyin():
    assert {"哥廷根", "getinggen", "ge ting gen"} <= set(keys_for("哥廷根"))


def test_sharp_s_folds_to_ss_and_separators_to_spaces():
    assert keys_for("Straße") == ["strasse"]
    assert "rolf georg koehler" in keys_for("Rolf-Georg Köhler")
    assert "rolfgeorgkohler" in keys_for("Rolf-Georg Köhler")
