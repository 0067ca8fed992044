"""Survey questions: the default template, validating a template's questions, localizing their text, and
cleaning a client's answers against them. Pure functions (no database)."""

from django.core.exceptions import ValidationError

from .models import QuestionKind

SUPPORTED_LANGUAGES = ("en", "fr", "es")

DEFAULT_TEMPLATE_NAME = "Project feedback"

# {organization} is replaced by the organization's name when the survey is shown.
DEFAULT_QUESTIONS = [
    {
        "key": "nps",
        "kind": QuestionKind.NPS,
        "required": True,
        "text": {
            "en": "How likely are you to recommend {organization} to a colleague or a peer?",
            "fr": "Quelle est la probabilité que vous recommandiez {organization} à un collègue ?",
            "es": "¿Qué probabilidad hay de que recomiende {organization} a un colega?",
        },
        "low_label": {"en": "Not at all likely", "fr": "Pas du tout probable", "es": "Nada probable"},
        "high_label": {"en": "Extremely likely", "fr": "Très probable", "es": "Muy probable"},
    },
    {
        "key": "reason",
        "kind": QuestionKind.LONG_TEXT,
        "required": False,
        "text": {
            "en": "What is the main reason for your score?",
            "fr": "Quelle est la principale raison de votre note ?",
            "es": "¿Cuál es la razón principal de su puntuación?",
        },
    },
    {
        "key": "responsiveness",
        "kind": QuestionKind.RATING,
        "required": False,
        "scale_min": 1,
        "scale_max": 5,
        "text": {
            "en": "How well did our team respond when you needed something?",
            "fr": "Notre équipe a-t-elle bien répondu à vos demandes ?",
            "es": "¿Qué tan bien respondió nuestro equipo cuando lo necesitó?",
        },
        "low_label": {"en": "Poorly", "fr": "Mal", "es": "Mal"},
        "high_label": {"en": "Very well", "fr": "Très bien", "es": "Muy bien"},
    },
    {
        "key": "clarity",
        "kind": QuestionKind.RATING,
        "required": False,
        "scale_min": 1,
        "scale_max": 5,
        "text": {
            "en": "How clearly did we keep you informed about decisions, schedule and cost?",
            "fr": "Vous avons-nous clairement informé des décisions, du calendrier et des coûts ?",
            "es": "¿Con qué claridad le informamos sobre decisiones, plazos y costos?",
        },
        "low_label": {"en": "Not clearly", "fr": "Pas clairement", "es": "Poco claro"},
        "high_label": {"en": "Very clearly", "fr": "Très clairement", "es": "Muy claro"},
    },
    {
        "key": "understanding",
        "kind": QuestionKind.RATING,
        "required": False,
        "scale_min": 1,
        "scale_max": 5,
        "text": {
            "en": "How well do we understand your goals and constraints?",
            "fr": "Comprenons-nous bien vos objectifs et vos contraintes ?",
            "es": "¿Qué tan bien entendemos sus objetivos y limitaciones?",
        },
        "low_label": {"en": "Not at all", "fr": "Pas du tout", "es": "Nada"},
        "high_label": {"en": "Completely", "fr": "Parfaitement", "es": "Totalmente"},
    },
    {
        "key": "follow_up",
        "kind": QuestionKind.FOLLOW_UP_CONSENT,
        "required": False,
        "text": {
            "en": "May we contact you to talk about your answers?",
            "fr": "Pouvons-nous vous contacter pour parler de vos réponses ?",
            "es": "¿Podemos contactarle para hablar de sus respuestas?",
        },
    },
]

# The survey page's own words, per language.
UI_TEXT = {
    "en": {
        "submit": "Send my answers",
        "saved": "Saved",
        "required": "Please answer this question.",
        "yes": "Yes",
        "no": "No",
        "thanks_title": "Thank you",
        "thanks_body": "Your answers reach the team that worked with you.",
        "contact_note": "Someone from the team will contact you within two business days.",
        "closed_title": "This survey is closed",
        "closed_body": "The link has expired or is no longer valid. If you would like to share feedback, "
        "reply to the email you received.",
        "intro": "About the project",
        "change": "You can change your answers until the survey closes.",
        "unsubscribe": "Stop these emails",
        "unsubscribed": "You will not receive further feedback requests from us.",
        "confirm_unsubscribe": "Do you want to stop receiving feedback requests?",
    },
    "fr": {
        "submit": "Envoyer mes réponses",
        "saved": "Enregistré",
        "required": "Merci de répondre à cette question.",
        "yes": "Oui",
        "no": "Non",
        "thanks_title": "Merci",
        "thanks_body": "Vos réponses sont transmises à l’équipe qui a travaillé avec vous.",
        "contact_note": "Un membre de l’équipe vous contactera sous deux jours ouvrés.",
        "closed_title": "Ce questionnaire est fermé",
        "closed_body": "Le lien a expiré ou n’est plus valide. Pour nous faire part de vos remarques, "
        "répondez au courriel reçu.",
        "intro": "À propos du projet",
        "change": "Vous pouvez modifier vos réponses jusqu’à la fermeture du questionnaire.",
        "unsubscribe": "Ne plus recevoir ces courriels",
        "unsubscribed": "Vous ne recevrez plus de demandes d’avis de notre part.",
        "confirm_unsubscribe": "Voulez-vous ne plus recevoir de demandes d’avis ?",
    },
    "es": {
        "submit": "Enviar mis respuestas",
        "saved": "Guardado",
        "required": "Por favor responda esta pregunta.",
        "yes": "Sí",
        "no": "No",
        "thanks_title": "Gracias",
        "thanks_body": "Sus respuestas llegan al equipo que trabajó con usted.",
        "contact_note": "Alguien del equipo se pondrá en contacto con usted en dos días hábiles.",
        "closed_title": "Esta encuesta está cerrada",
        "closed_body": "El enlace ha caducado o ya no es válido. Si desea compartir su opinión, "
        "responda al correo que recibió.",
        "intro": "Sobre el proyecto",
        "change": "Puede cambiar sus respuestas hasta que se cierre la encuesta.",
        "unsubscribe": "Dejar de recibir estos correos",
        "unsubscribed": "No recibirá más solicitudes de opinión de nuestra parte.",
        "confirm_unsubscribe": "¿Desea dejar de recibir solicitudes de opinión?",
    },
}


def ui_text(language: str) -> dict:
    return UI_TEXT.get(language, UI_TEXT["en"])


def localized(text: dict | str, language: str, **values) -> str:
    """The text in `language`, else English, else any language given."""
    if isinstance(text, dict):
        text = text.get(language) or text.get("en") or next(iter(text.values()), "")
    value = text
    for name, replacement in values.items():
        value = value.replace("{" + name + "}", str(replacement))
    return value


def pick_language(preferred: str, languages: list[str]) -> str:
    return preferred if preferred in (languages or SUPPORTED_LANGUAGES) else (languages or ["en"])[0]


def validate_questions(questions) -> list[dict]:
    """Check a template's question list; raise ValidationError({"questions": ...}) with every problem."""
    problems = []
    if not isinstance(questions, list) or not questions:
        raise ValidationError({"questions": "A survey needs at least one question."})
    keys = set()
    nps_count = 0
    for n, q in enumerate(questions, start=1):
        if not isinstance(q, dict):
            problems.append(f"Question {n} is not an object.")
            continue
        key, kind = q.get("key"), q.get("kind")
        if not key or not isinstance(key, str) or not key.replace("_", "").isalnum():
            problems.append(f"Question {n}: give it a key of letters, digits and underscores.")
        elif key in keys:
            problems.append(f"Question {n}: the key “{key}” is used twice.")
        keys.add(key)
        if kind not in QuestionKind.values:
            problems.append(f"Question {n}: unknown kind “{kind}”.")
            continue
        text = q.get("text")
        if not (isinstance(text, dict) and text.get("en")) and not (isinstance(text, str) and text):
            problems.append(f"Question {n}: the question needs an English text.")
        if kind == QuestionKind.NPS:
            nps_count += 1
        if kind == QuestionKind.RATING:
            lo, hi = q.get("scale_min", 1), q.get("scale_max", 5)
            if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo < hi <= 10):
                problems.append(f"Question {n}: a rating scale runs from 0 or 1 up to at most 10.")
        if kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
            choices = q.get("choices") or []
            values = [c.get("value") for c in choices if isinstance(c, dict)]
            if len(values) < 2 or len(set(values)) != len(values) or not all(values):
                problems.append(f"Question {n}: give at least two choices with distinct values.")
    if nps_count > 1:
        problems.append("A survey has at most one likelihood-to-recommend question.")
    if problems:
        raise ValidationError({"questions": problems})
    return questions


def is_low_rating(question: dict, value: int) -> bool:
    """The bottom third of a rating scale (1-2 on 1-5, 1-3 on 1-7)."""
    lo, hi = question.get("scale_min", 1), question.get("scale_max", 5)
    return value <= lo + (hi - lo) // 3


def clean_answers(questions: list[dict], data, *, partial: bool) -> tuple[dict, dict]:
    """Turn posted form data (a QueryDict or a dict of lists) into typed answers, keyed by question key.
    Returns (answers, errors). With `partial`, required questions may be missing (autosave)."""
    answers, errors = {}, {}

    def values(key):
        if hasattr(data, "getlist"):
            return [v for v in data.getlist(key) if v != ""]
        raw = data.get(key, [])
        return [v for v in (raw if isinstance(raw, list) else [raw]) if v not in ("", None)]

    for q in questions:
        key, kind = q["key"], q["kind"]
        given = values(key)
        if not given:
            if q.get("required") and not partial:
                errors[key] = "required"
            continue
        if kind in (QuestionKind.NPS, QuestionKind.RATING):
            lo, hi = (0, 10) if kind == QuestionKind.NPS else (q.get("scale_min", 1), q.get("scale_max", 5))
            try:
                number = int(str(given[0]))
            except ValueError:
                errors[key] = "range"
                continue
            if not lo <= number <= hi:
                errors[key] = "range"
                continue
            answers[key] = number
        elif kind == QuestionKind.SINGLE_CHOICE:
            allowed = {c["value"] for c in q.get("choices", [])}
            if given[0] not in allowed:
                errors[key] = "choice"
                continue
            answers[key] = given[0]
        elif kind == QuestionKind.MULTIPLE_CHOICE:
            allowed = {c["value"] for c in q.get("choices", [])}
            if not set(given) <= allowed:
                errors[key] = "choice"
                continue
            answers[key] = [c["value"] for c in q.get("choices", []) if c["value"] in set(given)]
        elif kind == QuestionKind.FOLLOW_UP_CONSENT:
            answers[key] = str(given[0]).lower() in ("yes", "true", "1", "on")
        else:
            limit = 200 if kind == QuestionKind.SHORT_TEXT else 5000
            answers[key] = str(given[0]).strip()[:limit]
    return answers, errors


def nps_key(questions: list[dict]) -> str | None:
    return next((q["key"] for q in questions if q["kind"] == QuestionKind.NPS), None)


def case_trigger(questions: list[dict], answers: dict) -> str | None:
    """Why this answer needs following up, or None: a detractor score, a low rating, or a request to be
    contacted (FollowUpCase.Trigger values)."""
    for q in questions:
        value = answers.get(q["key"])
        if value is None:
            continue
        if q["kind"] == QuestionKind.NPS and value <= 6:
            return "detractor"
    for q in questions:
        value = answers.get(q["key"])
        if q["kind"] == QuestionKind.RATING and value is not None and is_low_rating(q, value):
            return "low_rating"
    for q in questions:
        if q["kind"] == QuestionKind.FOLLOW_UP_CONSENT and answers.get(q["key"]) is True:
            return "follow_up_requested"
    return None
