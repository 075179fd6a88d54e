"""Text written to CSV files that spreadsheets will open: a cell never starts a formula."""

from __future__ import annotations

import csv
import io

# Excel, LibreOffice and Google Sheets run a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """The cell as text a spreadsheet shows as text: a leading formula character gets a ``'`` before it.

    Numbers and None pass unchanged (a number is never a formula, and ``-3`` must stay a number).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values) -> list:
    """``safe_cell`` on every cell of a row, for ``csv.writer.writerow``."""
    return [safe_cell(value) for value in values]


def csv_document(header: list[str], rows) -> bytes:
    """A whole CSV file: UTF-8 with a BOM (so Excel reads accents right), CRLF rows, every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(safe_row(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
