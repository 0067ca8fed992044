"""CSV import: a bad file is reported row by row and nothing is imported; a clean one imports all; the same
file again updates instead of duplicating."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from feedback import imports
from feedback.models import Client, Contact, ImportJob, Project
from tests.feedback.factories import make_pm

pytestmark = pytest.mark.django_db

GOOD = (
    "Client,Full name,E-mail,Title,Kind,Language\n"
    "Harbor Authority,Ana Ruiz,ana@harbor.example,Director,decision maker,es\n"
    "Harbor Authority,Ben Ode,BEN@harbor.example,Engineer,user,en\n"
    "City Schools,Cy Park,cy@schools.example,,influencer,\n"
)


def csv_file(text, name="contacts.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def upload_and_check(org, owner, text, kind="contacts", name="contacts.csv"):
    job = imports.upload(organization=org, actor=owner.user, kind=kind, uploaded=csv_file(text, name))
    return imports.validate(job=job, mapping=job.mapping)


def test_clean_file_imports_every_row_and_reimport_updates(org, owner):
    job = upload_and_check(org, owner, GOOD)
    assert job.mapping == {
        "client": "Client",
        "name": "Full name",
        "email": "E-mail",
        "title": "Title",
        "kind": "Kind",
        "language": "Language",
    }
    assert job.state == "valid" and job.report == []
    job = imports.start_import(job=job, actor=owner.user)
    job.refresh_from_db()
    assert (job.state, job.created_count, job.updated_count) == ("done", 3, 0)
    assert sorted(Contact.objects.for_org(org).values_list("email", "kind", "language")) == [
        ("ana@harbor.example", "decision_maker", "es"),
        ("ben@harbor.example", "user", "en"),
        ("cy@schools.example", "influencer", "en"),
    ]
    assert sorted(Client.objects.for_org(org).values_list("name", flat=True)) == ["City Schools", "Harbor Authority"]
    again = upload_and_check(org, owner, GOOD.replace("Director", "Chief engineer"))
    again = imports.start_import(job=again, actor=owner.user)
    again.refresh_from_db()
    assert (again.created_count, again.updated_count) == (0, 1)  # only Ana's title changed
    assert Contact.objects.for_org(org).count() == 3
    assert Contact.objects.for_org(org).get(email="ana@harbor.example").title == "Chief engineer"


def test_bad_rows_are_reported_and_nothing_is_imported(org, owner):
    text = (
        GOOD
        + "Harbor Authority,Dup,ana@harbor.example,,,\n"
        + "Harbor Authority,No Mail,not-an-email,,,\n"
        + ",Nobody,x@y.example,,boss,de\n"
    )
    job = upload_and_check(org, owner, text)
    assert job.state == "invalid" and job.error_count == 3
    assert job.report == [
        {"row": 5, "errors": ["Duplicate of row 2 (email “ana@harbor.example”)."]},
        {"row": 6, "errors": ["“not-an-email” is not a valid email address."]},
        {
            "row": 7,
            "errors": [
                "Client (name) is empty.",
                "Kind “boss” is not one of decision maker, influencer, user.",
                "Language “de” is not one of en, fr, es.",
            ],
        },
    ]
    with pytest.raises(imports.ValidationError):
        imports.start_import(job=job, actor=owner.user)
    assert Contact.objects.for_org(org).count() == 0 and Client.objects.for_org(org).count() == 0


def test_wrong_columns_are_refused(org, owner):
    job = imports.upload(organization=org, actor=owner.user, kind="contacts", uploaded=csv_file("foo,bar\n1,2\n"))
    with pytest.raises(imports.ValidationError) as error:
        imports.validate(job=job, mapping=job.mapping)
    assert "Choose a column for: Client (name), Name, Email." in error.value.messages


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("data.xlsx", b"PK\x03\x04 zip", "Upload a .csv file"),
        ("data.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a text CSV"),
        ("data.csv", b"name;email\n", "header row and at least one data row"),
        ("data.csv", b"\xff\xfe\xfa bad", "UTF-8"),
    ],
)
def test_non_csv_files_are_refused(org, owner, name, content, message):
    with pytest.raises(imports.ValidationError) as error:
        imports.upload(organization=org, actor=owner.user, kind="contacts", uploaded=SimpleUploadedFile(name, content))
    assert message in " ".join(error.value.messages)
    assert ImportJob.objects.for_org(org).count() == 0


def test_too_big_file_is_refused_through_the_page(owner_client, org, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    big = SimpleUploadedFile("big.csv", b"name,email\n" + b"x" * (imports.MAX_BYTES + 1))
    page = owner_client.post("/o/acme/feedback/imports/", {"kind": "contacts", "file": big})
    assert page.status_code == 200 and b"the limit is 10 MB" in page.content
    assert ImportJob.objects.for_org(org).count() == 0


def test_projects_import_resolves_members_and_units_through_the_pages(owner_client, org, owner):
    pm = make_pm(org, email="pm@acme.example")
    text = (
        "code,name,client,project_manager,phase,start_date,end_date\n"
        "P-1,Library,City Schools,pm@acme.example,design,2026-01-05,2026-12-18\n"
        "P-2,Bridge,Harbor Authority,nobody@acme.example,design,2026-03-01,2026-02-01\n"
    )
    owner_client.post("/o/acme/feedback/imports/", {"kind": "projects", "file": csv_file(text, "p.csv")})
    job = ImportJob.objects.for_org(org).get()
    mapping = {f"map_{f}": col for f, col in job.mapping.items()}
    page = owner_client.post(f"/o/acme/feedback/imports/{job.pk}/", {"action": "validate", **mapping}, follow=True)
    assert "“nobody@acme.example” is not a member of the organization." in page.content.decode()
    assert "The end date is before the start date." in page.content.decode()
    fixed = text.replace("nobody@", "pm@").replace("2026-02-01", "2026-09-01")
    owner_client.post("/o/acme/feedback/imports/", {"kind": "projects", "file": csv_file(fixed, "p.csv")})
    job = ImportJob.objects.for_org(org).order_by("-pk").first()
    owner_client.post(f"/o/acme/feedback/imports/{job.pk}/", {"action": "validate", **mapping})
    owner_client.post(f"/o/acme/feedback/imports/{job.pk}/", {"action": "import"})
    assert sorted(Project.objects.for_org(org).values_list("code", "project_manager")) == [
        ("P-1", pm.pk),
        ("P-2", pm.pk),
    ]


@pytest.mark.parametrize(
    ("kind", "model", "key"),
    [("clients", Client, "name"), ("contacts", Contact, "email"), ("projects", Project, "code")],
)
def test_each_kinds_example_file_imports_as_it_is(owner_client, org, kind, model, key):
    page = owner_client.get("/o/acme/feedback/imports/").content.decode()
    assert f'href="/o/acme/feedback/imports/example/{kind}.csv"' in page
    assert "decision maker, influencer or user; decision maker if empty." in page  # what a cell may hold

    example = owner_client.get(f"/o/acme/feedback/imports/example/{kind}.csv")
    assert example["Content-Disposition"] == f'attachment; filename="{kind}-example.csv"'
    text = b"".join(example.streaming_content).decode()

    owner_client.post("/o/acme/feedback/imports/", {"kind": kind, "file": csv_file(text, f"{kind}.csv")})
    job = ImportJob.objects.for_org(org).get()
    assert all(job.mapping.values())  # every column matched by its name, nothing to choose
    mapping = {f"map_{f}": col for f, col in job.mapping.items()}
    owner_client.post(f"/o/acme/feedback/imports/{job.pk}/", {"action": "validate", **mapping})
    owner_client.post(f"/o/acme/feedback/imports/{job.pk}/", {"action": "import"})
    job.refresh_from_db()
    assert (job.state, job.report, job.created_count) == ("done", [], 1)
    assert model.objects.for_org(org).values_list(key, flat=True).get() == imports.FIELDS[kind][key]["example"]


def test_an_unknown_kind_has_no_example(owner_client):
    assert owner_client.get("/o/acme/feedback/imports/example/invoices.csv").status_code == 404


def test_large_file_runs_as_a_task(org, owner, django_capture_on_commit_callbacks):
    rows = "".join(f"Client {n % 7},Person {n},p{n}@example.com,,,\n" for n in range(imports.INLINE_ROWS + 1))
    job = upload_and_check(org, owner, "client,name,email,title,kind,language\n" + rows)
    with django_capture_on_commit_callbacks(execute=True):
        job = imports.start_import(job=job, actor=owner.user)
        assert ImportJob.objects.get(pk=job.pk).state == "importing"
    job.refresh_from_db()
    assert job.state == "done" and job.created_count == imports.INLINE_ROWS + 1
    assert Contact.objects.for_org(org).count() == imports.INLINE_ROWS + 1
