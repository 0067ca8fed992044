"""The hash a charter is signed under, for any content: the same charter always hashes the same (whatever the key
order, however the dicts were built, however the database hands the JSON back), and any change a reader would
see gives another hash."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charters import content as doc
from charters import services
from charters.models import Charter, CharterVersion

robust = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Database examples share the test's transaction: few of them, without a deadline.
with_db = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Any text PostgreSQL can store (no NUL) and UTF-8 can encode (no lone surrogates).
raw_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)


def stored(value: str) -> str:
    """A text in the form normalize_content stores: Unix line ends, trimmed."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


text = raw_text.map(stored)
filled = text.filter(bool)
keys = st.integers(0, 2**32 - 1).map(lambda n: f"{n:08x}")


@st.composite
def charter_content(draw, kind):
    """Content already in its stored form, for a charter of `kind`."""
    result = {}
    for section in doc.sections_for(kind):
        if section.type == "text":
            value = draw(text)
        elif section.type == "bullets":
            value = draw(st.lists(filled, max_size=3))
        elif section.type == "phases":
            row = st.fixed_dictionaries(
                {"name": filled, "status": st.sampled_from(list(doc.PHASE_STATUSES)), "description": text}
            )
            value = draw(st.lists(row, max_size=3))
        elif section.type == "responsibilities":
            value = draw(st.lists(st.fixed_dictionaries({"group": filled, "responsibilities": text}), max_size=3))
        else:
            row = st.fixed_dictionaries(
                {
                    "key": keys.map(lambda k: f"m-{k}"),
                    "kind": st.sampled_from(list(doc.METRIC_KINDS)),
                    "name": filled,
                    "definition": text,
                    "target": text,
                }
            )
            value = draw(st.lists(row, max_size=3))
        result[section.key] = value
    return result


@st.composite
def matrices(draw):
    """A valid matrix with unique column and behavior keys."""
    count = draw(st.integers(0, 4))
    columns = []
    for _ in range(count):
        behaviors = draw(st.lists(filled, max_size=3))
        columns.append({"name": draw(filled.map(lambda s: s[:40].strip()).filter(bool)), "behaviors": behaviors})
    unique = draw(st.lists(keys, min_size=count + sum(len(c["behaviors"]) for c in columns), unique=True))
    taken = iter(unique)
    return {
        "columns": [
            {
                "key": f"c-{next(taken)}",
                "name": c["name"],
                "behaviors": [{"key": f"b-{next(taken)}", "text": t} for t in c["behaviors"]],
            }
            for c in columns
        ]
    }


@st.composite
def versions(draw):
    """The fields a canonical document is built from."""
    kind = draw(st.sampled_from(Charter.Kind.values))
    return {
        "organization_id": draw(st.integers(1, 10**6)),
        "charter_id": draw(st.integers(1, 10**6)),
        "kind": kind,
        "number": draw(st.integers(1, 500)),
        "title": draw(filled),
        "content": draw(charter_content(kind)),
        "matrix": draw(matrices()),
    }


def digest(fields: dict) -> str:
    return doc.sha256_hex(doc.canonical_bytes(doc.canonical_document(**fields)))


def reordered(value, random):
    """The same JSON value with every object's keys inserted in a random order (lists keep theirs: their order
    is part of the charter)."""
    if isinstance(value, dict):
        items = list(value.items())
        random.shuffle(items)
        return {k: reordered(v, random) for k, v in items}
    if isinstance(value, list):
        return [reordered(v, random) for v in value]
    return value


@robust
@given(versions(), st.randoms(use_true_random=False))
def test_key_order_does_not_change_the_hash(fields, random):
    shuffled = {
        **fields,
        "content": reordered(fields["content"], random),
        "matrix": reordered(fields["matrix"], random),
    }
    assert digest(shuffled) == digest(fields)
    document = doc.canonical_document(**fields)
    assert doc.canonical_bytes(reordered(document, random)) == doc.canonical_bytes(document)


@robust
@given(versions())
def test_equivalent_constructions_give_the_same_hash(fields):
    # A copy that went through JSON (as the API and the database hand it back) hashes the same.
    copied = json.loads(json.dumps(fields))
    assert digest(copied) == digest(fields)
    # The service builds the document from a version row: the same fields, the same bytes.
    charter = Charter(pk=fields["charter_id"], organization_id=fields["organization_id"], kind=fields["kind"])
    version = CharterVersion(
        organization_id=fields["organization_id"],
        charter=charter,
        number=fields["number"],
        title=fields["title"],
        content=fields["content"],
        matrix=fields["matrix"],
    )
    assert services.canonical_document(version) == doc.canonical_document(**fields)
    assert services.compute_hash(version) == digest(fields)


@robust
@given(versions(), st.randoms(use_true_random=False))
def test_windows_line_ends_and_surrounding_spaces_normalize_to_the_same_hash(fields, random):
    def as_typed(value):
        # What an editor on Windows, with a stray space or two, submits for the same text.
        if isinstance(value, str):
            return random.choice(["", " ", "\n"]) + value.replace("\n", "\r\n") + random.choice(["", "  ", "\r\n"])
        if isinstance(value, dict):
            return {k: v if k in ("key", "kind", "status") else as_typed(v) for k, v in value.items()}
        return [as_typed(v) for v in value]

    typed = reordered(as_typed(fields["content"]), random)
    normalized = doc.normalize_content(fields["kind"], typed)
    assert digest({**fields, "content": normalized}) == digest(fields)
    assert doc.normalize_matrix(reordered(fields["matrix"], random)) == fields["matrix"]


def _changed(draw, old, strategy):
    return draw(strategy.filter(lambda new: new != old))


@st.composite
def changes(draw, fields):
    """(what changed, the fields after one change a reader of the charter would notice)."""
    options = ["title", "section", "number", "kind", "organization", "charter"]
    columns = fields["matrix"]["columns"]
    if columns:
        options.append("column name")
    if any(c["behaviors"] for c in columns):
        options.append("behavior")
    what = draw(st.sampled_from(options))
    new = json.loads(json.dumps(fields))
    if what == "title":
        new["title"] = _changed(draw, fields["title"], filled)
    elif what == "section":
        key = draw(st.sampled_from([s.key for s in doc.sections_for(fields["kind"]) if s.type == "text"]))
        new["content"][key] = _changed(draw, fields["content"][key], text)
    elif what == "number":
        new["number"] = _changed(draw, fields["number"], st.integers(1, 500))
    elif what == "kind":
        new["kind"] = next(k for k in Charter.Kind.values if k != fields["kind"])
    elif what == "organization":
        new["organization_id"] = _changed(draw, fields["organization_id"], st.integers(1, 10**6))
    elif what == "charter":
        new["charter_id"] = _changed(draw, fields["charter_id"], st.integers(1, 10**6))
    elif what == "column name":
        column = draw(st.sampled_from(new["matrix"]["columns"]))
        column["name"] = _changed(draw, column["name"], filled)
    else:
        column = draw(st.sampled_from([c for c in new["matrix"]["columns"] if c["behaviors"]]))
        behavior = draw(st.sampled_from(column["behaviors"]))
        behavior["text"] = _changed(draw, behavior["text"], filled)
    return what, new


@robust
@given(versions().flatmap(lambda fields: st.tuples(st.just(fields), changes(fields))))
def test_any_visible_change_gives_another_hash(case):
    fields, (what, new) = case
    assert digest(new) != digest(fields), what


@robust
@given(versions())
def test_canonical_bytes_round_trip_through_json(fields):
    document = doc.canonical_document(**fields)
    data = doc.canonical_bytes(document)
    assert json.loads(data.decode("utf-8")) == document
    assert doc.canonical_bytes(json.loads(data)) == data
    # Non-ASCII text is kept as UTF-8, not \u escapes: the bytes hashed are the text a reader sees.
    for value in (fields["title"], *(v for v in fields["content"].values() if isinstance(v, str))):
        assert json.dumps(value, ensure_ascii=False)[1:-1].encode("utf-8") in data


@pytest.mark.django_db
@with_db
@given(versions(), st.randoms(use_true_random=False))
def test_a_draft_read_back_from_the_database_hashes_as_written(org, owner, fields, random):
    # PostgreSQL's jsonb keeps its own key order, not the one the content was written in.
    version = services.create_charter(organization=org, actor=owner.user, title="Draft", kind=fields["kind"])
    version = services.save_draft(
        version=version,
        actor=owner.user,
        revision=version.revision,
        title=fields["title"],
        content=reordered(fields["content"], random),
    )
    version = services.replace_matrix(
        version=version,
        actor=owner.user,
        matrix=reordered(fields["matrix"], random),
        matrix_revision=version.matrix_revision,
    )
    version = CharterVersion.objects.get(pk=version.pk)
    expected = {**fields, "organization_id": org.pk, "charter_id": version.charter_id, "number": 1}
    assert services.compute_hash(version) == digest(expected)
