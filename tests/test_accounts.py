"""A seller's Key and Target accounts: list, add, edit, archive, restore; and who may touch them."""

import pytest
from sqlalchemy import select

from focusweb.extensions import db
from focusweb.models import Account


@pytest.fixture
def seller(factory):
    _, (seller,) = factory.team()
    return seller


def test_accounts_are_grouped_key_then_target(client, auth, factory, seller):
    factory.account(seller, "Zebra Key", "key")
    factory.account(seller, "Alpha Target", "target")
    auth.login(seller)
    page = client.get("/accounts").get_data(as_text=True)
    assert page.index("Key accounts") < page.index("Zebra Key") < page.index("Target accounts")
    assert page.index("Target accounts") < page.index("Alpha Target")


def test_add_account(client, auth, seller):
    auth.login(seller)
    response = client.post("/accounts/new", data={"name": "  Acme   Corp ", "kind": "target", "notes": "Met at expo"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/accounts"
    account = db.session.scalar(select(Account).where(Account.owner_id == seller.id))
    assert (account.name, account.kind, account.notes) == ("Acme Corp", "target", "Met at expo")
    assert "Added Acme Corp to Target accounts." in client.get("/accounts").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "kind": "key"}, "Give the account a name."),
        ({"name": "Acme", "kind": ""}, "Choose Key account or Target account."),
        ({"name": "Acme", "kind": "partner"}, "Not a valid choice"),
        ({"name": "x" * 201, "kind": "key"}, "Field cannot be longer than 200 characters."),
        ({"name": "=HYPERLINK(1)", "kind": "key"}, "cannot start with ="),
        ({"name": "existing CO", "kind": "key"}, "You already have an account with this name."),
    ],
)
def test_add_account_refuses_bad_input_and_keeps_the_rest(client, auth, factory, seller, data, message):
    factory.account(seller, "Existing Co")
    auth.login(seller)
    response = client.post("/accounts/new", data={**data, "notes": "keep me"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "keep me" in page
    assert db.session.scalar(select(db.func.count()).select_from(Account)) == 1


def test_same_name_is_fine_for_another_seller(client, auth, factory, seller):
    other = factory.user("seller")
    factory.account(other, "Acme")
    auth.login(seller)
    assert client.post("/accounts/new", data={"name": "Acme", "kind": "key"}).status_code == 303


def test_edit_account(client, auth, factory, seller):
    account = factory.account(seller, "Old name", "key")
    auth.login(seller)
    response = client.post(f"/accounts/{account.id}/edit", data={"name": "New name", "kind": "target", "notes": ""})
    assert response.status_code == 303
    db.session.refresh(account)
    assert (account.name, account.kind) == ("New name", "target")


def test_edit_keeps_its_own_name(client, auth, factory, seller):
    account = factory.account(seller, "Same")
    auth.login(seller)
    response = client.post(f"/accounts/{account.id}/edit", data={"name": "SAME", "kind": "key"})
    assert response.status_code == 303


def test_archive_and_restore(client, auth, factory, seller):
    account = factory.account(seller, "Fading Co")
    auth.login(seller)
    assert client.post(f"/accounts/{account.id}/archive").status_code == 303
    db.session.refresh(account)
    assert account.archived_at is not None
    page = client.get("/accounts").get_data(as_text=True)
    assert page.index("Archived accounts") < page.rindex("Fading Co")
    assert "Fading Co" not in page[page.index("Key accounts") : page.index("Archived accounts")]
    assert client.post(f"/accounts/{account.id}/restore").status_code == 303
    db.session.refresh(account)
    assert account.archived_at is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/accounts/{id}/edit"),
        ("post", "/accounts/{id}/edit"),
        ("post", "/accounts/{id}/archive"),
        ("post", "/accounts/{id}/restore"),
    ],
)
def test_another_seller_cannot_see_or_change_an_account(client, auth, factory, seller, method, path):
    account = factory.account(seller, "Mine")
    intruder = factory.user("seller", manager=seller.manager)
    auth.login(intruder)
    kwargs = {"data": {"name": "Stolen", "kind": "key"}} if method == "post" else {}
    response = getattr(client, method)(path.format(id=account.id), **kwargs)
    assert response.status_code == 404
    db.session.refresh(account)
    assert (account.name, account.archived_at) == ("Mine", None)


def test_a_seller_sees_only_their_own_accounts(client, auth, factory, seller):
    other = factory.user("seller", manager=seller.manager)
    factory.account(other, "Not yours")
    auth.login(seller)
    assert "Not yours" not in client.get("/accounts").get_data(as_text=True)
    assert client.get(f"/team/{other.id}/accounts").status_code == 404


def test_manager_sees_and_edits_their_sellers_accounts(client, auth, factory, seller):
    account = factory.account(seller, "Team account")
    auth.login(seller.manager)
    page = client.get(f"/team/{seller.id}/accounts").get_data(as_text=True)
    assert "Team account" in page
    response = client.post(f"/team/{seller.id}/accounts/new", data={"name": "Added by manager", "kind": "key"})
    assert response.headers["Location"] == f"/team/{seller.id}/accounts"
    assert db.session.scalar(select(Account).where(Account.name == "Added by manager")).owner_id == seller.id
    assert client.post(f"/accounts/{account.id}/archive").status_code == 303


def test_another_teams_manager_gets_404(client, auth, factory, seller):
    account = factory.account(seller, "Team account")
    stranger, _ = factory.team()
    auth.login(stranger)
    assert client.get(f"/team/{seller.id}/accounts").status_code == 404
    assert client.get(f"/accounts/{account.id}/edit").status_code == 404
    assert "Team account" not in client.get("/team").get_data(as_text=True)


def test_team_page_lists_only_the_managers_sellers(client, auth, factory):
    manager, (mine,) = factory.team()
    _, (theirs,) = factory.team()
    factory.account(mine, "A", "key")
    factory.account(mine, "B", "target")
    auth.login(manager)
    page = client.get("/team").get_data(as_text=True)
    assert mine.name in page and "1 Key, 1 Target accounts" in page
    assert theirs.name not in page


def test_manager_at_accounts_goes_to_team(client, auth, factory):
    manager, _ = factory.team()
    auth.login(manager)
    assert client.get("/accounts").headers["Location"] == "/team"


def test_seller_cannot_open_team(client, auth, seller):
    auth.login(seller)
    assert client.get("/team").status_code == 404


def test_text_is_shown_as_text(client, auth, factory, seller):
    factory.account(seller, "<script>alert(1)</script> & Co", notes="<b>bold</b>")
    auth.login(seller)
    page = client.get("/accounts").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page


def test_database_refuses_two_accounts_with_the_same_name(factory, seller):
    from sqlalchemy.exc import IntegrityError

    factory.account(seller, "Twin")
    with pytest.raises(IntegrityError):
        factory.account(seller, "TWIN")
    db.session.rollback()
