"""The accounts screens on a phone, in real Chromium."""

from playwright.sync_api import expect

from .conftest import sideways_overflow, sign_in


def test_seller_adds_an_account_and_sees_it_under_its_group(phone):
    sign_in(phone, "seller@demo.test")
    assert sideways_overflow(phone) == 0
    phone.get_by_role("link", name="Accounts", exact=True).click()
    phone.wait_for_url("**/accounts")
    assert sideways_overflow(phone) == 0
    phone.get_by_role("link", name="Add account").click()
    phone.get_by_label("Name").fill("Phone Added Target Co")
    phone.get_by_label("Target account").check()
    phone.get_by_role("button", name="Save account").click()
    phone.wait_for_url("**/accounts")
    target_group = phone.locator("section", has=phone.get_by_role("heading", name="Target accounts"))
    expect(target_group.get_by_text("Phone Added Target Co")).to_be_visible()
    key_group = phone.locator("section", has=phone.get_by_role("heading", name="Key accounts"))
    expect(key_group.get_by_text("Phone Added Target Co")).to_have_count(0)
    assert sideways_overflow(phone) == 0


def test_wrong_password_says_so(phone):
    phone.goto("/login")
    phone.get_by_label("Email").fill("seller@demo.test")
    phone.get_by_label("Password").fill("not the password")
    phone.get_by_role("button", name="Sign in").click()
    expect(phone.get_by_text("Wrong e-mail or password.")).to_be_visible()
    assert "/login" in phone.url


def test_validation_error_is_shown_next_to_the_field_and_text_kept(phone):
    sign_in(phone, "seller2@demo.test")
    phone.goto("/accounts/new")
    phone.get_by_label("Notes (optional)").fill("keep this text")
    phone.get_by_role("button", name="Save account").click()
    expect(phone.get_by_text("Give the account a name.")).to_be_visible()
    expect(phone.get_by_label("Notes (optional)")).to_have_value("keep this text")


def test_sign_out(phone):
    sign_in(phone, "manager@demo.test")
    expect(phone.get_by_role("heading", name="Your team")).to_be_visible()
    phone.get_by_role("button", name="Sign out").click()
    phone.wait_for_url("**/login")
    expect(phone.get_by_text("You are signed out.")).to_be_visible()
