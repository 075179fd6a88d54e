"""Text written to CSV files that spreadsheets will open: a cell never starts a formula."""

from __future__ import annotations

import csv
import io

from flask import Response

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


def csv_response(header: list[str], rows, file_name: str) -> Response:
    """The rows as a CSV file (``csv_document``) that the browser saves under ``file_name``."""
    response = Response(csv_document(header, rows), mimetype="text/csv")
    response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


def csv_document(header: list[str], rows) -> bytes:
    """A whole CSV file: UTF-8 with a BOM (so Excel reads accents right), CRLF rows, every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(safe_row(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
