import pytest
from django.test import Client
from django.urls import reverse

from charters import services
from charters.models import Callout, CharterVersion, Signer
from cxprogram.accounts.models import ApiToken, hash_token
from tests.conftest import client_for
from tests.factories import PASSWORD

from .factories import CONTENT, draft_charter, sign_all

pytestmark = pytest.mark.django_db


def api(org, path=""):
    return f"/api/v1/orgs/{org.slug}/{path}"


def token_client(membership) -> Client:
    raw = ApiToken.generate()
    ApiToken.objects.create(user=membership.user, name="script", token_hash=hash_token(raw), last_four=raw[-4:])
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_create_a_charter_then_edit_its_draft_with_the_revision(org, editor):
    client = token_client(editor)
    response = client.post(
        api(org, "charters/"), {"title": "Team charter", "kind": "team"}, content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    charter_id = response.json()["id"]
    (version,) = client.get(api(org, f"charter-versions/?charter={charter_id}")).json()["results"]
    assert version["status"] == "draft" and version["revision"] == 1 and "what_we_do" in version["content"]
    url = api(org, f"charter-versions/{version['id']}/")
    content = {**version["content"], "what_we_do": "Design the listening program."}
    response = client.patch(url, {"content": content, "revision": 1}, content_type="application/json")
    assert response.status_code == 200 and response.json()["revision"] == 2
    stale = client.patch(url, {"content": content | {"purpose": "x"}, "revision": 1}, content_type="application/json")
    assert stale.status_code == 409
    body = stale.json()["error"]
    assert body["code"] == "conflict" and "The saved draft differs from yours in: Purpose." in body["message"]
    assert body["fields"] == {"revision": ["The current revision is 2."]}
    missing = client.patch(url, {"content": content}, content_type="application/json")
    assert missing.status_code == 400 and "revision" in missing.json()["error"]["fields"]


def test_staff_can_read_but_not_write(org, teammate, draft):
    client = token_client(teammate)
    assert client.get(api(org, "charters/")).json()["count"] == 1
    response = client.post(api(org, "charters/"), {"title": "X", "kind": "program"}, content_type="application/json")
    assert response.status_code == 403


def test_matrix_in_place_edit_and_whole_replacement(org, editor, draft):
    client = token_client(editor)
    url = api(org, f"charter-versions/{draft.pk}/matrix/")
    column = draft.matrix["columns"][1]
    response = client.post(
        url,
        {"op": "add_behavior", "column": column["key"], "text": "Map the client's decisions"},
        content_type="application/json",
    )
    assert response.status_code == 200
    matrix = response.json()["matrix"]
    assert matrix["columns"][1]["behaviors"][0]["text"] == "Map the client's decisions"
    revision = response.json()["matrix_revision"]
    replacement = {"columns": [{"name": "Listening", "behaviors": [{"text": "Ask one more question"}]}]}
    response = client.put(url, {"matrix": replacement, "matrix_revision": revision}, content_type="application/json")
    assert response.status_code == 200
    (only,) = response.json()["matrix"]["columns"]
    assert only["name"] == "Listening" and only["key"].startswith("c-") and only["behaviors"][0]["key"].startswith("b-")
    stale = client.put(url, {"matrix": replacement, "matrix_revision": revision}, content_type="application/json")
    assert stale.status_code == 409
    bad = client.post(url, {"op": "add_column", "name": ""}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"name": ["Give the column a name."]}


def test_send_verify_void_through_the_api(org, editor, lead, supporter, draft):
    client = token_client(editor)
    response = client.post(
        api(org, f"charter-versions/{draft.pk}/send/"),
        {"lead": lead.pk, "supporters": [supporter.pk], "message": "Please sign by Friday"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    request_id = response.json()["id"]
    assert [(x["role"], x["status"]) for x in response.json()["signers"]] == [
        ("lead", "pending"),
        ("supporter", "waiting"),
    ]
    frozen = client.patch(
        api(org, f"charter-versions/{draft.pk}/"), {"content": CONTENT, "revision": 2}, content_type="application/json"
    )
    assert frozen.status_code == 400 and "can no longer change" in str(frozen.json())
    verify = client.get(api(org, f"charter-versions/{draft.pk}/verify/")).json()
    draft.refresh_from_db()
    assert verify == {
        "status": "intact",
        "intact": True,
        "stored_hash": draft.content_hash,
        "computed_hash": draft.content_hash,
    }
    response = client.post(
        api(org, f"charter-signature-requests/{request_id}/void/"),
        {"reason": "Wrong lead"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["number"] == 2 and response.json()["status"] == "draft"


def test_send_refuses_an_empty_draft_and_non_executives(org, editor, teammate, lead):
    client = token_client(editor)
    version = services.create_charter(organization=org, actor=editor.user, title="Blank", kind="program")
    url = api(org, f"charter-versions/{version.pk}/send/")
    response = client.post(url, {"lead": lead.pk}, content_type="application/json")
    assert response.status_code == 400 and "This draft is empty" in str(response.json())
    version = draft_charter(org, editor, title="Full")
    response = client.post(
        api(org, f"charter-versions/{version.pk}/send/"), {"lead": teammate.pk}, content_type="application/json"
    )
    assert response.status_code == 400 and "not an executive" in response.json()["error"]["fields"]["lead"][0]


def test_signing_needs_a_session_that_reauthenticated_never_a_token(org, editor, lead, draft):
    signature_request = services.send_for_signature(version=draft, actor=editor.user, lead=lead, supporters=[])
    signer = signature_request.signers.get()
    url = api(org, f"charter-signers/{signer.pk}/sign/")
    payload = {"consent": True, "signature_method": "typed", "typed_name": "Morgan Reyes"}
    response = token_client(lead).post(url, payload, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "session_required"
    session = client_for(lead)
    response = session.post(url, payload, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "reauthentication_required"
    session.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = session.post(url, payload, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "signed"
    assert Signer.objects.get().method == "typed"


def test_a_member_who_was_not_asked_cannot_sign_or_decline(org, editor, lead, supporter, draft):
    signature_request = services.send_for_signature(version=draft, actor=editor.user, lead=lead, supporters=[])
    signer = signature_request.signers.get()
    session = client_for(supporter)
    session.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    payload = {"consent": True, "signature_method": "typed", "typed_name": "Priya"}
    assert (
        session.post(
            api(org, f"charter-signers/{signer.pk}/sign/"), payload, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        session.post(
            api(org, f"charter-signers/{signer.pk}/decline/"), {"reason": "x"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert Signer.objects.get().status == "pending"


def test_decline_through_the_api(org, editor, lead, draft):
    signature_request = services.send_for_signature(version=draft, actor=editor.user, lead=lead, supporters=[])
    signer = signature_request.signers.get()
    response = token_client(lead).post(
        api(org, f"charter-signers/{signer.pk}/decline/"), {"reason": "Needs targets"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["number"] == 2


def test_acknowledge_callouts_and_pdf(org, editor, lead, teammate, draft):
    sign_all(services.send_for_signature(version=draft, actor=editor.user, lead=lead, supporters=[]))
    client = token_client(teammate)
    charter_id = draft.charter_id
    response = client.post(api(org, f"charters/{charter_id}/acknowledge/"))
    assert response.status_code == 200 and response.json()["version"] == draft.pk
    behavior = draft.matrix["columns"][0]["behaviors"][0]
    response = client.post(
        api(org, f"charters/{charter_id}/callouts/"),
        {
            "kind": "kudos",
            "behavior": behavior["key"],
            "note": "Spent the morning on site",
            "client_or_project": "Bayside Clinic",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["column_name"] == "Relating" and response.json()["author"] == teammate.pk
    flag = client.post(
        api(org, f"charters/{charter_id}/callouts/"),
        {
            "kind": "flag",
            "column": draft.matrix["columns"][3]["key"],
            "note": "Blamed a partner in front of the client",
        },
        content_type="application/json",
    )
    assert flag.status_code == 201 and flag.json()["column_name"] == "Partnering"
    assert client.get(api(org, f"charters/{charter_id}/callouts/")).json()["count"] == 2 == Callout.objects.count()
    response = client.get(api(org, f"charter-versions/{draft.pk}/pdf/"))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")


def test_amend_and_discard_a_draft_version(org, editor, lead, draft):
    sign_all(services.send_for_signature(version=draft, actor=editor.user, lead=lead, supporters=[]))
    client = token_client(editor)
    response = client.post(
        api(org, "charter-versions/"), {"charter": draft.charter_id}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["number"] == 2
    amendment = response.json()["id"]
    assert client.delete(api(org, f"charter-versions/{draft.pk}/")).status_code == 400  # signed: kept
    assert client.delete(api(org, f"charter-versions/{amendment}/")).status_code == 204
    assert list(CharterVersion.objects.values_list("number", flat=True)) == [1]


def test_only_a_charter_never_sent_can_be_deleted(org, editor, lead, draft):
    client = token_client(editor)
    other = draft_charter(org, editor, title="Scratch")
    assert client.delete(api(org, f"charters/{other.charter_id}/")).status_code == 204
    services.send_for_signature(version=draft, actor=editor.user, lead=lead, supporters=[])
    response = client.delete(api(org, f"charters/{draft.charter_id}/"))
    assert response.status_code == 400 and "its history is kept" in str(response.json())
    assert list(CharterVersion.objects.values_list("charter__title", flat=True)) == ["Client Experience Charter"]
