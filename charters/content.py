"""What a charter version holds, as plain data: the sections, the desired-behaviors matrix, the
templates new charters start from, validation limits, and the canonical form that is hashed.

Pure functions only (no database), so services, views, the API, the PDF and the diff share them.
"""

import difflib
import hashlib
import json
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError

MAX_TEXT = 20_000  # characters in one text section: a charter is short by design
MAX_ROWS = 40  # rows in one list section (phases, responsibilities, metrics, bullets)
MAX_CELL = 2_000  # characters in one row field
MAX_COLUMNS = 12
MAX_BEHAVIORS = 20  # prompts per matrix column
MAX_BEHAVIOR_TEXT = 500
MAX_COLUMN_NAME = 40
MAX_TITLE = 200

PHASE_STATUSES = {"done": "Done", "current": "Current", "planned": "Planned"}
METRIC_KINDS = {"behavior": "Behavior metric", "business": "Business metric"}
DEFAULT_COLUMNS = ["Relating", "Adapting", "Leading", "Partnering", "Teaching", "Measuring"]


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    type: str  # "text", "phases", "responsibilities", "bullets", "metrics"
    guidance: str
    team_only: bool = False


SECTIONS = [
    Section(
        "from_text",
        "From",
        "text",
        "The sponsoring executive, by name and title: the person whose authority this charter carries.",
    ),
    Section(
        "purpose",
        "Purpose",
        "text",
        "Why the organization exists, in a sentence or two, and why listening to clients is part of it.",
    ),
    Section(
        "cause_for_action",
        "Cause for action",
        "text",
        "The business drivers: what is at stake (revenue mix, retention, growth) if nothing changes?",
    ),
    Section(
        "cultural_impact",
        "Cultural impact",
        "text",
        "The cultural drivers: how better client experiences change the way people here work together.",
    ),
    Section(
        "employee_engagement",
        "Why employees engage",
        "text",
        "What staff gain by taking part: recognition, fewer surprises, better projects.",
    ),
    Section(
        "client_engagement",
        "Why clients engage",
        "text",
        "What clients gain by giving feedback: they are heard, and they see what changed because of it.",
    ),
    Section(
        "what_we_do",
        "What we do",
        "text",
        "The team's services to the rest of the organization, in a short list.",
        team_only=True,
    ),
    Section(
        "what_we_dont_do",
        "What we don't do",
        "text",
        "Work people might expect of the team that belongs elsewhere, and where it belongs.",
        team_only=True,
    ),
    Section(
        "phases",
        "Scope",
        "phases",
        "The program in phases: what is done, what is under way now, what comes next.",
    ),
    Section(
        "responsibilities",
        "Expectations and responsibilities",
        "responsibilities",
        "One row per group or role (executives, unit leaders, project managers, the CX team): what each will do.",
    ),
    Section(
        "desired_behaviors",
        "Desired behaviors",
        "bullets",
        "One behavior per line: what everyone will consistently do. Behaviors, not processes.",
    ),
    Section(
        "success_criteria",
        "Success criteria",
        "text",
        "How the team and its sponsors will know, a year from now, that the team succeeded.",
        team_only=True,
    ),
    Section(
        "metrics",
        "Metrics",
        "metrics",
        "Behavior metrics (participation, ideas raised) and business metrics (retention, win rate): "
        "each with a definition and a target.",
    ),
    Section(
        "skill_sets",
        "Ideal skill sets",
        "text",
        "The backgrounds, experience and training the team needs, and what it will grow in people.",
        team_only=True,
    ),
]
SECTION_BY_KEY = {s.key: s for s in SECTIONS}


def sections_for(kind: str) -> list[Section]:
    return [s for s in SECTIONS if kind == "team" or not s.team_only]


def new_key(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def empty_content(kind: str) -> dict:
    return {s.key: ("" if s.type == "text" else []) for s in sections_for(kind)}


def default_matrix() -> dict:
    return {"columns": [{"key": new_key("c"), "name": name, "behaviors": []} for name in DEFAULT_COLUMNS]}


def template_for(kind: str) -> tuple[dict, dict]:
    """A new charter of `kind`: every section empty (the editor shows each one's guidance as a
    placeholder, never filler text) and the six default matrix columns."""
    return empty_content(kind), default_matrix()


# --- Validation and normalization -------------------------------------------------------------


def clean_text(value, label: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({label: "Enter text."})
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(value) > limit:
        raise ValidationError(
            {
                label: f"This is {len(value):,} characters long; the limit is {limit:,}. "
                "Shorten it, or link to a longer document."
            }
        )
    return value


def _rows(value, key: str) -> list:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ValidationError({key: "Expected a list."})
    if len(value) > MAX_ROWS:
        raise ValidationError({key: f"{len(value)} rows; the limit is {MAX_ROWS}. Keep the charter simple."})
    return value


def _row_dict(row, key: str) -> dict:
    if not isinstance(row, dict):
        raise ValidationError({key: "Each row must be an object."})
    return row


def normalize_content(kind: str, content) -> dict:
    """Validate `content` for a charter of `kind` and return it in its stored form: known sections
    only, text trimmed with Unix line ends, empty rows dropped. Raises ValidationError keyed by
    section with a message that says what to do."""
    if not isinstance(content, dict):
        raise ValidationError("The charter content must be an object of sections.")
    known = {s.key for s in sections_for(kind)}
    unknown = sorted(set(content) - known)
    if unknown:
        raise ValidationError({unknown[0]: f"Unknown section for a {kind} charter: {', '.join(unknown)}."})
    result = {}
    for section in sections_for(kind):
        key, value = section.key, content.get(section.key)
        if section.type == "text":
            result[key] = clean_text(value, key, MAX_TEXT)
        elif section.type == "bullets":
            items = [clean_text(item, key, MAX_CELL) for item in _rows(value, key)]
            result[key] = [item for item in items if item]
        elif section.type == "phases":
            rows = []
            for row in _rows(value, key):
                row = _row_dict(row, key)
                name, description = (
                    clean_text(row.get("name"), key, 200),
                    clean_text(row.get("description"), key, MAX_CELL),
                )
                status = row.get("status") or "planned"
                if status not in PHASE_STATUSES:
                    raise ValidationError({key: f"A phase's status is one of {', '.join(PHASE_STATUSES)}."})
                if name or description:
                    if not name:
                        raise ValidationError({key: "Give every phase a name."})
                    rows.append({"name": name, "status": status, "description": description})
            result[key] = rows
        elif section.type == "responsibilities":
            rows = []
            for row in _rows(value, key):
                row = _row_dict(row, key)
                group = clean_text(row.get("group"), key, 200)
                duties = clean_text(row.get("responsibilities"), key, MAX_CELL)
                if group or duties:
                    if not group:
                        raise ValidationError({key: "Name the group or role for every row."})
                    rows.append({"group": group, "responsibilities": duties})
            result[key] = rows
        elif section.type == "metrics":
            rows = []
            for row in _rows(value, key):
                row = _row_dict(row, key)
                name = clean_text(row.get("name"), key, 200)
                definition, target = (
                    clean_text(row.get("definition"), key, MAX_CELL),
                    clean_text(row.get("target"), key, 200),
                )
                kind_ = row.get("kind") or "behavior"
                if kind_ not in METRIC_KINDS:
                    raise ValidationError({key: "A metric is a behavior metric or a business metric."})
                if name or definition or target:
                    if not name:
                        raise ValidationError({key: "Give every metric a name."})
                    metric_key = row.get("key") if _is_key(row.get("key"), "m") else new_key("m")
                    rows.append(
                        {"key": metric_key, "kind": kind_, "name": name, "definition": definition, "target": target}
                    )
            result[key] = rows
    return result


def _is_key(value, prefix: str) -> bool:
    return isinstance(value, str) and value.startswith(prefix + "-") and 3 <= len(value) <= 40


def normalize_title(title) -> str:
    title = clean_text(title, "title", MAX_TITLE)
    if not title:
        raise ValidationError({"title": "Give the charter a title."})
    return title


def normalize_matrix(matrix) -> dict:
    """Validate a whole matrix (from the API). Keys that are missing or malformed get new ones;
    a key that appears twice is an error, since call-outs point at behaviors by key."""
    if not isinstance(matrix, dict) or not isinstance(matrix.get("columns"), list):
        raise ValidationError({"matrix": 'Expected {"columns": [{"name": ..., "behaviors": [...]}]}.'})
    columns, seen = [], set()
    if len(matrix["columns"]) > MAX_COLUMNS:
        raise ValidationError({"matrix": f"A matrix has at most {MAX_COLUMNS} columns."})
    for column in matrix["columns"]:
        if not isinstance(column, dict):
            raise ValidationError({"matrix": "Each column must be an object."})
        name = _column_name(column.get("name"))
        behaviors = column.get("behaviors") or []
        if not isinstance(behaviors, list) or len(behaviors) > MAX_BEHAVIORS:
            raise ValidationError({"matrix": f"A column holds a list of at most {MAX_BEHAVIORS} behaviors."})
        clean = []
        for behavior in behaviors:
            text = behavior.get("text") if isinstance(behavior, dict) else behavior
            text = _behavior_text(text)
            key = behavior.get("key") if isinstance(behavior, dict) else None
            clean.append({"key": key if _is_key(key, "b") else new_key("b"), "text": text})
        key = column.get("key") if _is_key(column.get("key"), "c") else new_key("c")
        columns.append({"key": key, "name": name, "behaviors": clean})
    keys = [c["key"] for c in columns] + [b["key"] for c in columns for b in c["behaviors"]]
    for key in keys:
        if key in seen:
            raise ValidationError({"matrix": f"The key {key} appears twice; keys must be unique."})
        seen.add(key)
    return {"columns": columns}


def _column_name(name) -> str:
    name = clean_text(name, "name", MAX_COLUMN_NAME)
    if not name:
        raise ValidationError({"name": "Give the column a name."})
    return name


def _behavior_text(text) -> str:
    text = clean_text(text, "text", MAX_BEHAVIOR_TEXT)
    if not text:
        raise ValidationError({"text": "Write the behavior prompt, or remove it."})
    return text


# --- Matrix operations (in-place editing) ---------------------------------------------------


def _column(matrix: dict, key: str) -> dict:
    for column in matrix["columns"]:
        if column["key"] == key:
            return column
    raise ValidationError("That column is no longer in the matrix. The page shows the latest matrix now.")


def _behavior(matrix: dict, key: str) -> tuple[dict, dict]:
    for column in matrix["columns"]:
        for behavior in column["behaviors"]:
            if behavior["key"] == key:
                return column, behavior
    raise ValidationError("That behavior is no longer in the matrix. The page shows the latest matrix now.")


def _move(items: list, item, delta: int) -> None:
    index = items.index(item)
    target = min(max(index + delta, 0), len(items) - 1)
    items.insert(target, items.pop(index))


MATRIX_OPERATIONS = (
    "add_column",
    "rename_column",
    "remove_column",
    "move_column",
    "add_behavior",
    "edit_behavior",
    "remove_behavior",
    "move_behavior",
)


def apply_matrix_operation(matrix: dict, operation: str, args: dict) -> tuple[dict, str]:
    """Apply one in-place edit and return (new matrix, a short description for the trail)."""
    matrix = json.loads(json.dumps(matrix or {"columns": []}))
    columns = matrix.setdefault("columns", [])
    delta = -1 if args.get("direction") in ("up", "left", "-1", -1) else 1
    if operation == "add_column":
        if len(columns) >= MAX_COLUMNS:
            raise ValidationError(f"A matrix has at most {MAX_COLUMNS} columns.")
        name = _column_name(args.get("name"))
        columns.append({"key": new_key("c"), "name": name, "behaviors": []})
        return matrix, f"added column {name}"
    if operation == "rename_column":
        column = _column(matrix, args.get("column", ""))
        old, column["name"] = column["name"], _column_name(args.get("name"))
        return matrix, f"renamed column {old} to {column['name']}"
    if operation == "remove_column":
        column = _column(matrix, args.get("column", ""))
        columns.remove(column)
        return matrix, f"removed column {column['name']}"
    if operation == "move_column":
        column = _column(matrix, args.get("column", ""))
        _move(columns, column, delta)
        return matrix, f"moved column {column['name']}"
    if operation == "add_behavior":
        column = _column(matrix, args.get("column", ""))
        if len(column["behaviors"]) >= MAX_BEHAVIORS:
            raise ValidationError(f"A column holds at most {MAX_BEHAVIORS} behaviors.")
        text = _behavior_text(args.get("text"))
        column["behaviors"].append({"key": new_key("b"), "text": text})
        return matrix, f"added a behavior to {column['name']}"
    if operation == "edit_behavior":
        column, behavior = _behavior(matrix, args.get("behavior", ""))
        behavior["text"] = _behavior_text(args.get("text"))
        return matrix, f"edited a behavior in {column['name']}"
    if operation == "remove_behavior":
        column, behavior = _behavior(matrix, args.get("behavior", ""))
        column["behaviors"].remove(behavior)
        return matrix, f"removed a behavior from {column['name']}"
    if operation == "move_behavior":
        column, behavior = _behavior(matrix, args.get("behavior", ""))
        _move(column["behaviors"], behavior, delta)
        return matrix, f"moved a behavior in {column['name']}"
    raise ValidationError(f"Unknown matrix operation. Use one of: {', '.join(MATRIX_OPERATIONS)}.")


def behaviors(matrix: dict) -> list[dict]:
    """Every behavior with its column: [{key, text, column_key, column_name}]."""
    return [
        {"key": b["key"], "text": b["text"], "column_key": c["key"], "column_name": c["name"]}
        for c in (matrix or {}).get("columns", [])
        for b in c["behaviors"]
    ]


def is_empty(content: dict, matrix: dict) -> bool:
    has_section = any(bool(v) for v in (content or {}).values())
    has_behavior = any(c["behaviors"] for c in (matrix or {}).get("columns", []))
    return not (has_section or has_behavior)


# --- Canonical form and hash -----------------------------------------------------------------


def canonical_document(*, organization_id, charter_id, kind, number, title, content, matrix) -> dict:
    return {
        "organization": organization_id,
        "document": f"charter-{charter_id}",
        "kind": kind,
        "version": number,
        "title": title,
        "sections": content,
        "matrix": matrix,
    }


def canonical_bytes(document: dict) -> bytes:
    """Stable JSON: sorted keys, no insignificant whitespace, UTF-8. The same content always gives
    the same bytes, whatever order the database returns JSON keys in."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Comparing versions -----------------------------------------------------------------------


def section_lines(section: Section, value) -> list[str]:
    """A section as lines of text, for the diff and for naming changed sections."""
    if section.type == "text":
        return (value or "").splitlines()
    if section.type == "bullets":
        return [f"• {item}" for item in value or []]
    if section.type == "phases":
        return [f"{r['name']} [{PHASE_STATUSES[r['status']]}]: {r['description']}" for r in value or []]
    if section.type == "responsibilities":
        return [f"{r['group']}: {r['responsibilities']}" for r in value or []]
    if section.type == "metrics":
        return [
            f"{METRIC_KINDS[r['kind']]} · {r['name']}: {r['definition']} (target: {r['target'] or '—'})"
            for r in value or []
        ]
    return []


def matrix_lines(matrix: dict) -> list[str]:
    lines = []
    for column in (matrix or {}).get("columns", []):
        lines.append(f"## {column['name']}")
        lines.extend(f"• {b['text']}" for b in column["behaviors"])
    return lines


def changed_sections(kind: str, before: dict, after: dict) -> list[str]:
    """Labels of the sections (and "Title", "Desired-behaviors matrix") that differ."""
    labels = []
    if before.get("title") != after.get("title"):
        labels.append("Title")
    for section in sections_for(kind):
        b, a = before.get("content", {}), after.get("content", {})
        if section_lines(section, b.get(section.key)) != section_lines(section, a.get(section.key)):
            labels.append(section.label)
    if "matrix" in before and matrix_lines(before["matrix"]) != matrix_lines(after.get("matrix")):
        labels.append("Desired-behaviors matrix")
    return labels


def line_diff(old: list[str], new: list[str]) -> list[tuple[str, str]]:
    """[(tag, line)] with tag "same", "removed" or "added", in reading order."""
    rows = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            rows.extend(("same", line) for line in old[i1:i2])
        else:
            rows.extend(("removed", line) for line in old[i1:i2])
            rows.extend(("added", line) for line in new[j1:j2])
    return rows


def version_diff(kind: str, old, new) -> list[dict]:
    """Section-by-section diff of two versions: [{label, changed, rows}]."""
    result = [
        {
            "label": "Title",
            "rows": line_diff([old.title], [new.title]),
        }
    ]
    for section in sections_for(kind):
        result.append(
            {
                "label": section.label,
                "rows": line_diff(
                    section_lines(section, old.content.get(section.key)),
                    section_lines(section, new.content.get(section.key)),
                ),
            }
        )
    result.append(
        {"label": "Desired-behaviors matrix", "rows": line_diff(matrix_lines(old.matrix), matrix_lines(new.matrix))}
    )
    for part in result:
        part["changed"] = any(tag != "same" for tag, _ in part["rows"])
    return result


KIND_LABELS = {"program": "Program charter", "team": "Team charter"}


def build_document(*, kind: str, number, title: str, content: dict, matrix: dict) -> dict:
    """What the document template renders: sections in order, with their values."""
    return {
        "kind_label": KIND_LABELS.get(kind, ""),
        "number": number,
        "title": title,
        "sections": [
            {"key": s.key, "label": s.label, "type": s.type, "value": (content or {}).get(s.key)}
            for s in sections_for(kind)
        ],
        "matrix": matrix or {"columns": []},
        "has_behaviors": any(c["behaviors"] for c in (matrix or {}).get("columns", [])),
    }
