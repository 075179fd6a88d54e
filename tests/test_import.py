"""Importing a CRM's CSV export: every row or none, bad rows listed by line, duplicates reported."""

import io

import pytest
from sqlalchemy import select

from focusweb.extensions import db
from focusweb.models import Account


@pytest.fixture
def seller(factory):
    _, (seller,) = factory.team()
    return seller


def names(seller):
    return sorted(db.session.scalars(select(Account.name).where(Account.owner_id == seller.id)))


def upload(client, content: bytes | str, path="/accounts/import"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(path, data={"file": (io.BytesIO(data), "export.csv")}, content_type="multipart/form-data")


def test_good_file_imports_every_row(client, auth, seller):
    auth.login(seller)
    response = upload(client, " Name , KIND ,Notes\nAcme,Key,big one\n  Beta  Ltd , target ,\nGamma,TARGET account,\n")
    assert response.status_code == 303
    assert names(seller) == ["Acme", "Beta Ltd", "Gamma"]
    acme = db.session.scalar(select(Account).where(Account.name == "Acme"))
    assert (acme.kind, acme.notes) == ("key", "big one")
    assert "Imported 3 accounts." in client.get("/accounts").get_data(as_text=True)


def test_bad_rows_import_nothing_and_are_listed_by_line(client, auth, seller):
    auth.login(seller)
    content = "name,kind\nAcme,key\n,key\nBeta,partner\n=cmd|' /C calc'!A0,target\nAcme,target\n"
    response = upload(client, content)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported: 4 rows need fixing." in page
    assert "Line 3: Give the account a name." in page
    assert "Line 4: kind must be “key” or “target”, not “partner”." in page
    assert "Line 5: A name cannot start with =" in page
    assert "Line 6: “Acme” is already on line 2 of this file." in page
    assert names(seller) == []


def test_duplicates_of_existing_accounts_are_reported_not_doubled(client, auth, factory, seller):
    factory.account(seller, "Acme")
    auth.login(seller)
    response = upload(client, "name,kind\nACME,key\nNew One,target\n")
    assert response.status_code == 303
    assert names(seller) == ["Acme", "New One"]
    page = client.get("/accounts").get_data(as_text=True)
    assert "Imported 1 account. 1 already existed" in page
    assert "Line 2: “Acme” already exists; left as it is." in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name;kind\nAcme;key\n", "missing: name, kind"),
        (b"title,kind\nAcme,key\n", "missing: name"),
        (b"", "missing: name, kind"),
        ("name,kind\nCaf\u00e9,key\n".encode("utf-16"), "not a UTF-8 CSV text file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a UTF-8 CSV text file"),
    ],
)
def test_unreadable_files_import_nothing_with_a_clear_message(client, auth, seller, content, message):
    auth.login(seller)
    response = upload(client, content)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert names(seller) == []


def test_missing_file_is_asked_for(client, auth, seller):
    auth.login(seller)
    response = client.post("/accounts/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a CSV file to import." in response.get_data(as_text=True)


def test_utf8_with_bom_and_accents(client, auth, seller):
    auth.login(seller)
    assert upload(client, "\ufeffname,kind\nZürich Bänk,key\n東京商事,target\n").status_code == 303
    assert names(seller) == ["Zürich Bänk", "東京商事"]


def test_manager_imports_for_their_seller(client, auth, seller):
    auth.login(seller.manager)
    response = upload(client, "name,kind\nAcme,key\n", path=f"/team/{seller.id}/accounts/import")
    assert response.headers["Location"] == f"/team/{seller.id}/accounts"
    assert names(seller) == ["Acme"]


def test_another_seller_cannot_import_into_my_book(client, auth, factory, seller):
    auth.login(factory.user("seller"))
    assert upload(client, "name,kind\nAcme,key\n", path=f"/team/{seller.id}/accounts/import").status_code == 404
    assert names(seller) == []


def test_cli_import(runner, seller, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("name,kind\nAcme,key\nBeta,target\n")
    result = runner.invoke(args=["import-accounts", str(good), "--owner", seller.email])
    assert result.exit_code == 0, result.output
    assert "imported 2 account(s)" in result.output
    again = runner.invoke(args=["import-accounts", str(good), "--owner", seller.email])
    assert "line 2: “Acme” already exists" in again.output
    assert names(seller) == ["Acme", "Beta"]


def test_cli_import_bad_rows(runner, seller, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind\nAcme,key\nBeta,nope\n")
    result = runner.invoke(args=["import-accounts", str(bad), "--owner", seller.email])
    assert result.exit_code == 1
    assert "line 3: kind must be" in result.output
    assert "nothing imported: 1 bad row(s)" in result.output
    assert names(seller) == []
