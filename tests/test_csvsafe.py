"""Exported CSV text never starts a formula (focusweb.csvsafe, for every future export)."""

import csv
import io

import pytest

from focusweb.csvsafe import safe_cell, safe_row


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Acme = best", "Acme = best"),
        ("", ""),
        ("'quoted", "'quoted"),
        (-3, -3),
        (None, None),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_a_written_row_reads_back_as_text_that_starts_no_formula():
    out = io.StringIO()
    csv.writer(out).writerow(safe_row(['=HYPERLINK("http://x")', "Acme", "@x", 7]))
    cells = next(csv.reader(io.StringIO(out.getvalue())))
    assert cells == ['\'=HYPERLINK("http://x")', "Acme", "'@x", "7"]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
