"""Signing up, verifying the address from the mail, creating the first organization, logging in and
out, and resetting a password: through allauth's real views, with mail delivered over SMTP."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from cxprogram.accounts.models import User
from cxprogram.audit.models import AuditEvent
from cxprogram.tenancy.models import Membership, Organization
from tests.factories import PASSWORD, make_user
from tests.fixtures.mail import Mailbox

NEW_PASSWORD = "plum-orchard-lantern-42"
pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s\"'<>]+")


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    # allauth's per-IP limits are shared by every test that signs up from 127.0.0.1.
    settings.ACCOUNT_RATE_LIMITS = False


def links_in(mail, containing: str) -> list[str]:
    return [url for url in LINK.findall(Mailbox.text(mail)) if containing in url]


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def sign_up(client, email="nadia@northwind.example", password=NEW_PASSWORD, name="Nadia Novak"):
    return client.post(
        reverse("account_signup"),
        {"full_name": name, "email": email, "password1": password, "password2": password},
    )


def confirm_from_mail(client, mailbox, email):
    (mail,) = mailbox.to(email)
    (link,) = links_in(mail, "/accounts/confirm-email/")
    page = client.get(path_of(link))
    assert page.status_code == 200
    assert email in page.content.decode()
    return client.post(path_of(link))


def test_sign_up_verify_and_create_the_first_organization(client, smtp_server):
    response = sign_up(client)

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    user = User.objects.get(email="nadia@northwind.example")
    assert user.full_name == "Nadia Novak"
    assert not EmailAddress.objects.get(user=user).verified
    # Mandatory verification: nothing but the "check your mail" page until the link is followed.
    assert client.get(reverse("organization_create")).status_code == 302

    (envelope,) = smtp_server.messages
    assert envelope["to"] == ["nadia@northwind.example"]
    assert envelope["message"]["Subject"] == "[CX Program] Please Confirm Your Email Address"
    assert Mailbox.text(envelope["message"]).startswith("Hello from CX Program,")

    response = confirm_from_mail(client, smtp_server, "nadia@northwind.example")

    assert EmailAddress.objects.get(user=user).verified
    # Logged in by the confirmation; with no organization yet, home sends her to create one.
    assert response.status_code == 302
    response = client.get(response.url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("organization_create")
    assert "Create your organization" in response.content.decode()

    response = client.post(
        reverse("organization_create"), {"name": "Northwind Engineering", "time_zone": "America/Chicago"}
    )

    organization = Organization.objects.get(name="Northwind Engineering")
    assert response.status_code == 302
    assert response.url == reverse("org_home", args=["northwind-engineering"])
    assert organization.slug == "northwind-engineering"
    assert organization.time_zone == "America/Chicago"
    membership = Membership.objects.get(organization=organization)
    assert membership.user == user
    assert membership.roles == ["admin"]
    assert membership.is_active
    events = AuditEvent.objects.filter(organization=organization).order_by("id")
    assert [(e.verb, e.actor_id, e.target_id) for e in events] == [
        ("organization.created", user.pk, str(organization.pk)),
        ("member.joined", user.pk, str(membership.pk)),
    ]
    assert events[1].payload == {"roles": ["admin"]}

    home = client.get(response.url)
    assert home.status_code == 200
    assert "Northwind Engineering" in home.content.decode()


def test_the_second_organization_of_the_same_name_gets_its_own_address(client, smtp_server):
    user = make_user("twice@northwind.example")
    client.force_login(user)
    client.post(reverse("organization_create"), {"name": "Northwind", "time_zone": "UTC"})
    client.post(reverse("organization_create"), {"name": "Northwind", "time_zone": "UTC"})

    assert sorted(Organization.objects.values_list("slug", flat=True)) == ["northwind", "northwind-2"]
    assert Membership.objects.filter(user=user, roles=["admin"]).count() == 2


def test_creating_an_organization_without_a_name_shows_the_error(client, db):
    client.force_login(make_user("blank@northwind.example"))

    response = client.post(reverse("organization_create"), {"name": "  ", "time_zone": "UTC"})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Organization.objects.exists()
    assert not AuditEvent.objects.exists()


def test_unverified_people_cannot_log_in(client, smtp_server):
    user = make_user("pending@northwind.example", verified=False)

    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("organization_list")).status_code == 302
    # The login attempt sends a fresh verification mail, which does let her in.
    response = confirm_from_mail(client, smtp_server, user.email)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_log_in_and_log_out(client, db):
    user = make_user("lena@northwind.example")

    wrong = client.post(reverse("account_login"), {"login": user.email, "password": "not-her-password"})
    assert wrong.status_code == 200
    assert "The email address and/or password you specified are not correct." in wrong.content.decode()
    assert "_auth_user_id" not in client.session

    response = client.post(reverse("account_login"), {"login": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk

    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("organization_list")).status_code == 302


def test_password_reset_by_mail(client, smtp_server):
    user = make_user("forgetful@northwind.example")

    response = client.post(reverse("account_reset_password"), {"email": "forgetful@northwind.example"})
    assert response.status_code == 302

    (mail,) = smtp_server.to("forgetful@northwind.example")
    (link,) = links_in(mail, "/accounts/password/reset/key/")
    response = client.get(path_of(link))
    # allauth moves the key out of the URL into the session before showing the form.
    assert response.status_code == 302
    form_url = response.url
    assert "change password" in client.get(form_url).content.decode().lower()

    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)
    # The link is single-use.
    assert "bad token" in client.get(path_of(link), follow=True).content.decode().lower()
    assert client.post(reverse("account_login"), {"login": user.email, "password": NEW_PASSWORD}).status_code == 302


def test_password_reset_for_an_unknown_address_sends_no_link(client, smtp_server):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@northwind.example"})

    # The page does not reveal whether the address has an account.
    assert response.status_code == 302
    assert all(not links_in(m, "/accounts/password/reset/key/") for m in smtp_server.to("nobody@northwind.example"))


@pytest.mark.parametrize(
    "email, password, field, message",
    [
        ("not-an-address", NEW_PASSWORD, "email", "Enter a valid email address."),
        ("weak@northwind.example", "password", "password1", "This password is too short."),
        ("weak2@northwind.example", "12345678901", "password1", "This password is entirely numeric."),
        ("weak3@northwind.example", "password123", "password1", "This password is too common."),
        ("weak4@northwind.example", "weak4@northwind", "password1", "too similar to the email address"),
    ],
)
def test_bad_sign_ups_show_the_error_and_create_nothing(client, smtp_server, email, password, field, message):
    response = sign_up(client, email=email, password=password)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert message in response.content.decode()
    assert not User.objects.exists()
    assert not EmailAddress.objects.exists()
    assert smtp_server.messages == []


@pytest.mark.parametrize("email", ["taken@northwind.example", "TAKEN@Northwind.example"])
def test_signing_up_with_a_taken_address_creates_nothing_and_tells_its_owner(client, smtp_server, email):
    owner = make_user("taken@northwind.example")

    response = sign_up(client, email=email)

    # allauth prevents account enumeration: the page looks like a normal sign-up ("check your
    # mail"), and the mail goes to the address's owner, who is told to log in or reset instead.
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert list(User.objects.all()) == [owner]
    assert EmailAddress.objects.count() == 1
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    (mail,) = smtp_server.to("taken@northwind.example")
    assert "an account using that email address already exists" in Mailbox.text(mail)
    assert links_in(mail, reverse("account_reset_password"))
    assert "_auth_user_id" not in client.session


def test_mismatched_passwords_are_an_error(client, smtp_server):
    response = client.post(
        reverse("account_signup"),
        {"full_name": "Ann", "email": "ann@northwind.example", "password1": NEW_PASSWORD, "password2": "other-9"},
    )

    assert response.status_code == 200
    assert "You must type the same password each time." in response.content.decode()
    assert not User.objects.filter(email="ann@northwind.example").exists()
