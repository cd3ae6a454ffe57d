"""Text reader: UTF-8 as it is, TCVN3/VNI 8-bit files converted, bad files refused."""
from __future__ import annotations

import pytest

from ingest.legacy import from_unicode
from ingest.readers import read
from tests.fixtures_formats import ODD_NAME, SEED, build_legacy_txt, check_common, forest_line, junk, refuse, seed_lines


@pytest.mark.parametrize("encoding", ["TCVN3", "VNI"])
def test_legacy_txt_is_converted_exactly(tmp_path, encoding):
    path = tmp_path / f"{encoding}.txt"
    expected = build_legacy_txt(path, encoding)
    extracted = read(path)
    assert extracted.converted_from == encoding
    assert extracted.text == expected
    assert forest_line(seed_lines()) in extracted.text.split("\n")


def test_legacy_characters_pasted_into_utf8_are_converted(tmp_path):
    path = tmp_path / "pasted.txt"
    path.write_text(from_unicode("\n".join(seed_lines()), "VNI"), encoding="utf-8")
    extracted = read(path)
    assert extracted.converted_from == "VNI" and extracted.text == "\n".join(seed_lines())


def test_unicode_text_is_left_alone():
    extracted = read(SEED)
    assert extracted.converted_from is None
    assert extracted.text == SEED.read_text(encoding="utf-8").replace("\r\n", "\n")


def test_bad_text_files_are_refused(tmp_path):
    check_common(tmp_path, ".txt")
    refuse(junk(tmp_path, ".txt"), r"^binary content \(NUL bytes\), not a text document$")
    french = tmp_path / "latin1.txt"
    french.write_bytes("Où est le café? Très bien, à côté de l'hôtel.\n".encode("latin-1") * 20)
    refuse(french, r"^not valid UTF-8 text \(byte \d+\); save it as UTF-8$")
    blank = tmp_path / "blank.txt"
    blank.write_text(" \n\t\n")
    refuse(blank, r"^no text in file \(only whitespace\)$")


def test_odd_file_name(tmp_path):
    odd = tmp_path / ODD_NAME.format(suffix="txt")
    odd.write_bytes(SEED.read_bytes())
    assert forest_line(seed_lines()) in read(odd).text
