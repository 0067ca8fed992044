"""Invitations: an admin invites by email (page or API), the mail goes out over SMTP with a
single-use, expiring link, and the invitee signs up or logs in and joins with the invited roles and
unit. Expired, used and revoked links, resending, and the mistakes an admin can make."""

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cxprogram.accounts.models import User
from cxprogram.audit.models import AuditEvent
from cxprogram.core import tokens
from cxprogram.tenancy.models import Invitation, Membership, Unit
from cxprogram.tenancy.permissions import Role
from tests.factories import PASSWORD, make_user
from tests.fixtures.mail import Mailbox

NEW_PASSWORD = "plum-orchard-lantern-42"
INVITE_LINK = re.compile(r"https?://[^/\s]+(/invitations/[A-Za-z0-9_-]{43}/)")


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    # allauth's per-IP limits are shared by every test that signs up from 127.0.0.1.
    settings.ACCOUNT_RATE_LIMITS = False


@pytest.fixture
def unit(org):
    return Unit.objects.create(organization=org, name="Healthcare")


def members_url(org) -> str:
    return reverse("org_members", args=[org.slug])


def api_url(org) -> str:
    return f"/api/v1/orgs/{org.slug}/invitations/"


def invite(client, org, email, roles, unit=None, capture=None):
    """Post the invitation form as the signed-in admin; the mail task runs after the commit."""
    data = {"email": email, "roles": [str(r) for r in roles], "unit": unit.pk if unit else ""}
    with capture(execute=True):
        return client.post(members_url(org), data)


def link_in(mailbox, email) -> str:
    *_, mail = mailbox.to(email)
    (path,) = INVITE_LINK.findall(Mailbox.text(mail))
    assert f'href="{settings.SITE_URL}{path}"' in Mailbox.html(mail)
    return path


def sign_up(client, email, name="Nina Newcomer"):
    return client.post(
        reverse("account_signup"),
        {"full_name": name, "email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )


def verbs(org) -> list[str]:
    return list(AuditEvent.objects.filter(organization=org).order_by("id").values_list("verb", flat=True))


def test_an_invitee_signs_up_from_the_mail_and_joins_with_the_invited_roles_and_unit(
    owner_client, owner, org, unit, smtp_server, django_capture_on_commit_callbacks
):
    response = invite(
        owner_client, org, "Nina@Example.com", [Role.EXECUTIVE, Role.CX_COE], unit, django_capture_on_commit_callbacks
    )

    assert response.status_code == 302
    assert response.url == members_url(org)
    invitation = Invitation.objects.get(organization=org)
    assert invitation.email == "nina@example.com"
    assert invitation.roles == ["executive", "cx_coe"]
    assert invitation.unit == unit
    assert invitation.invited_by == owner.user
    assert timedelta(days=7) - timedelta(minutes=1) < invitation.expires_at - timezone.now() <= timedelta(days=7)
    (envelope,) = smtp_server.messages
    assert envelope["to"] == ["nina@example.com"]
    mail = envelope["message"]
    assert "Acme Consulting" in mail["Subject"]
    text = Mailbox.text(mail)
    assert (
        "Olivia Owner invited you to join Acme Consulting on CX Program as Executive, CX Center of Excellence" in text
    )
    path = link_in(smtp_server, "nina@example.com")
    # Only the hash of the link's token is stored.
    token = path.split("/")[2]
    assert invitation.token_hash == tokens.hash_token(token)
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().get())
    page = owner_client.get(members_url(org)).content.decode()
    assert "nina@example.com" in page and "Pending invitations" in page

    newcomer = Client()
    page = newcomer.get(path)
    assert page.status_code == 200
    assert "Join Acme Consulting" in page.content.decode()
    assert "Executive, CX Center of Excellence" in page.content.decode()

    response = sign_up(newcomer, "nina@example.com")

    # The invitation proved the address: no verification mail, signed in, back at the invitation.
    assert response.status_code == 302
    assert response.url == path
    assert len(smtp_server.messages) == 1
    nina = User.objects.get(email="nina@example.com")
    assert EmailAddress.objects.get(user=nina).verified
    assert not Membership.objects.filter(user=nina).exists()
    assert "Accept and join" in newcomer.get(path).content.decode()

    response = newcomer.post(path)

    assert response.status_code == 302
    assert response.url == reverse("org_home", args=[org.slug])
    membership = Membership.objects.get(organization=org, user=nina)
    assert membership.roles == ["executive", "cx_coe"]
    assert membership.unit == unit
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
    assert invitation.accepted_by == nina
    assert verbs(org) == ["invitation.sent", "invitation.accepted", "member.joined"]
    home = newcomer.get(response.url)
    assert home.status_code == 200
    assert "Welcome to Acme Consulting." in home.content.decode()
    # The invitation no longer waits in her session: "/" takes her to the organization.
    assert newcomer.get("/").url == reverse("org_home", args=[org.slug])


def test_an_existing_user_invited_through_the_api_logs_in_and_accepts(
    owner_client, org, unit, smtp_server, django_capture_on_commit_callbacks, other_org
):
    existing = make_user("ravi@example.com", "Ravi Existing")

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            api_url(org),
            {"email": "ravi@example.com", "roles": ["project_manager"], "unit": unit.pk},
            "application/json",
        )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ravi@example.com"
    assert body["roles"] == ["project_manager"]
    assert body["unit"] == unit.pk
    assert body["status"] == "pending"
    path = link_in(smtp_server, "ravi@example.com")

    ravi = Client()
    page = ravi.get(path).content.decode()
    assert "Log in" in page
    response = ravi.post(reverse("account_login"), {"login": "ravi@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == path
    response = ravi.post(path)

    assert response.url == reverse("org_home", args=[org.slug])
    membership = Membership.objects.get(organization=org, user=existing)
    assert (membership.roles, membership.unit) == (["project_manager"], unit)
    assert Invitation.objects.get(pk=body["id"]).status == "accepted"
    listed = owner_client.get(api_url(org)).json()
    assert [(i["email"], i["status"]) for i in listed["results"]] == [("ravi@example.com", "accepted")]


def test_an_expired_link_shows_a_friendly_page_and_changes_nothing(
    owner_client, org, smtp_server, django_capture_on_commit_callbacks
):
    invite(owner_client, org, "late@example.com", [Role.STAFF], capture=django_capture_on_commit_callbacks)
    path = link_in(smtp_server, "late@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    late = Client()
    late.force_login(make_user("late@example.com"))

    for response in (late.get(path), late.post(path)):
        assert response.status_code == 410
        page = response.content.decode()
        assert "This invitation cannot be used" in page
        assert "It expired on" in page
        assert "Ask an admin of the organization to send you a new one." in page
    assert not Membership.objects.filter(organization=org, user__email="late@example.com").exists()
    assert Invitation.objects.get().accepted_at is None
    # Expired invitations leave the pending list and make way for a new one.
    assert list(owner_client.get(members_url(org)).context["invitations"]) == []
    response = invite(owner_client, org, "late@example.com", [Role.STAFF], capture=django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert sorted(i.status for i in Invitation.objects.all()) == ["pending", "revoked"]


def test_a_used_link_cannot_be_used_again(owner_client, org, smtp_server, django_capture_on_commit_callbacks):
    invite(owner_client, org, "first@example.com", [Role.STAFF], capture=django_capture_on_commit_callbacks)
    path = link_in(smtp_server, "first@example.com")
    first = Client()
    first.force_login(make_user("first@example.com"))
    assert first.post(path).status_code == 302

    second_user = make_user("second@example.com")
    second = Client()
    second.force_login(second_user)
    for response in (second.get(path), second.post(path), Client().get(path)):
        assert response.status_code == 410
        assert "This invitation has already been used." in response.content.decode()
    assert not Membership.objects.filter(user=second_user).exists()
    assert verbs(org).count("member.joined") == 1


def test_a_revoked_link_shows_a_friendly_page(owner_client, org, smtp_server, django_capture_on_commit_callbacks):
    invite(owner_client, org, "gone@example.com", [Role.STAFF], capture=django_capture_on_commit_callbacks)
    path = link_in(smtp_server, "gone@example.com")
    invitation = Invitation.objects.get()

    response = owner_client.post(f"/o/{org.slug}/invitations/{invitation.pk}/revoke/", follow=True)

    assert "The invitation for gone@example.com was revoked." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert verbs(org) == ["invitation.sent", "invitation.revoked"]
    gone = Client()
    gone.force_login(make_user("gone@example.com"))
    for response in (gone.get(path), gone.post(path)):
        assert response.status_code == 410
        assert "An admin withdrew this invitation." in response.content.decode()
    assert not Membership.objects.filter(user__email="gone@example.com").exists()
    # Revoked cannot be resent.
    response = owner_client.post(f"/o/{org.slug}/invitations/{invitation.pk}/resend/", follow=True)
    assert "This invitation was revoked; it cannot be resent." in response.content.decode()
    assert len(smtp_server.messages) == 1


def test_resend_mails_a_new_link_and_the_old_one_stops_working(
    owner_client, org, smtp_server, django_capture_on_commit_callbacks
):
    invite(owner_client, org, "again@example.com", [Role.STAFF], capture=django_capture_on_commit_callbacks)
    old_path = link_in(smtp_server, "again@example.com")
    invitation = Invitation.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/o/{org.slug}/invitations/{invitation.pk}/resend/", follow=True)

    assert "The invitation for again@example.com was sent again with a new link." in response.content.decode()
    assert len(smtp_server.to("again@example.com")) == 2
    new_path = link_in(smtp_server, "again@example.com")
    assert new_path != old_path
    invitation.refresh_from_db()
    assert invitation.sent_count == 2
    old = Client().get(old_path)
    assert old.status_code == 404
    assert "The link is not valid." in old.content.decode()
    again = Client()
    again.force_login(make_user("again@example.com"))
    assert again.post(new_path).url == reverse("org_home", args=[org.slug])
    assert verbs(org) == ["invitation.sent", "invitation.resent", "invitation.accepted", "member.joined"]


def test_resend_and_revoke_through_the_api(owner_client, org, smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = owner_client.post(api_url(org), {"email": "api@example.com", "roles": ["staff"]}, "application/json")
    pk = created.json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        resent = owner_client.post(f"{api_url(org)}{pk}/resend/")
    revoked = owner_client.post(f"{api_url(org)}{pk}/revoke/")
    again = owner_client.post(f"{api_url(org)}{pk}/resend/")

    assert resent.status_code == 200
    assert (revoked.status_code, revoked.json()["status"]) == (200, "revoked")
    assert Invitation.objects.get(pk=pk).sent_count == 2
    assert again.status_code == 400
    assert again.json()["error"]["fields"] == {
        "non_field_errors": ["This invitation was revoked; it cannot be resent."]
    }
    assert len(smtp_server.to("api@example.com")) == 2


def test_inviting_a_member_or_an_address_already_invited_is_refused(
    owner_client, org, teammate, smtp_server, django_capture_on_commit_callbacks
):
    invite(owner_client, org, "pending@example.com", [Role.STAFF], capture=django_capture_on_commit_callbacks)

    for email, message in [
        ("TEAMMATE@acme.example", "This person is already a member of the organization."),
        ("pending@example.com", "An invitation for this address is pending. Resend it instead."),
    ]:
        response = invite(owner_client, org, email, [Role.STAFF], capture=django_capture_on_commit_callbacks)
        assert response.status_code == 200
        assert response.context["form"].errors == {"email": [message]}
        assert message in response.content.decode()

        api = owner_client.post(api_url(org), {"email": email, "roles": ["staff"]}, "application/json")
        assert api.status_code == 400
        assert api.json()["error"]["fields"] == {"email": [message]}
    assert Invitation.objects.count() == 1
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize(
    "data, field, message",
    [
        (
            {"email": "not an address", "roles": ["staff"]},
            "email",
            "Enter a valid email address, like name@example.com.",
        ),
        ({"email": "someone@example.com"}, "roles", "Choose at least one role."),
        ({"email": "someone@example.com", "roles": ["owner"]}, "roles", "Select a valid choice."),
    ],
)
def test_invitation_form_errors(owner_client, org, smtp_server, data, field, message):
    response = owner_client.post(members_url(org), data)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Invitation.objects.exists()
    assert smtp_server.messages == []


def test_a_unit_of_another_organization_is_refused_by_the_api(owner_client, org, other_org, smtp_server):
    foreign = Unit.objects.create(organization=other_org, name="Their unit")

    response = owner_client.post(
        api_url(org), {"email": "x@example.com", "roles": ["staff"], "unit": foreign.pk}, "application/json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["unit"]
    assert not Invitation.objects.exists()


def test_someone_signed_in_with_another_address_cannot_accept(
    owner_client, org, smtp_server, django_capture_on_commit_callbacks
):
    invite(owner_client, org, "meant-for@example.com", [Role.EXECUTIVE], capture=django_capture_on_commit_callbacks)
    path = link_in(smtp_server, "meant-for@example.com")
    intruder = Client()
    intruder.force_login(make_user("intruder@example.com"))

    page = intruder.get(path).content.decode()
    assert "Signed in as intruder@example.com. The invitation was sent to meant-for@example.com." in page
    response = intruder.post(path, follow=True)

    assert (
        "This invitation was sent to meant-for@example.com. Sign in with that address to accept it."
        in response.content.decode()
    )
    assert not Membership.objects.filter(user__email="intruder@example.com").exists()
    assert Invitation.objects.get().status == "pending"


def test_members_without_the_permission_cannot_invite(teammate_client, org, smtp_server):
    page = teammate_client.get(members_url(org)).content.decode()
    assert "Send invitation" not in page

    form = teammate_client.post(members_url(org), {"email": "x@example.com", "roles": ["admin"]})
    api = teammate_client.post(api_url(org), {"email": "x@example.com", "roles": ["admin"]}, "application/json")

    assert form.status_code == 302
    assert api.status_code == 403
    assert not Invitation.objects.exists()
    assert smtp_server.messages == []


def test_a_link_that_never_existed_is_a_friendly_404(client, db):
    for token in ["x" * 43, "short", "x" * 42 + "!"]:
        response = client.get(f"/invitations/{token}/")
        assert response.status_code == 404
        assert "The link is not valid." in response.content.decode()
