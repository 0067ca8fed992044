"""Sending product mail: one function renders subject, text and HTML from templates and sends it
through the configured backend. `OutboxBackend` is the embedded default's backend."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import make_msgid
from django.template import Context, TemplateDoesNotExist
from django.template.loader import get_template, render_to_string

# What sending one mail raises when the server refuses it or cannot be reached (connection errors and
# time-outs are OSErrors).
MAIL_ERRORS = (smtplib.SMTPException, OSError)


def absolute_url(path: str) -> str:
    return settings.SITE_URL + path


def render_plain(template: str, context: dict) -> str:
    """A subject or a text part is plain text: rendered without HTML escaping, so a title such as
    "Smith & Sons <Design>" reads as written instead of "Smith &amp; Sons &lt;Design&gt;"."""
    return get_template(template).template.render(Context(context, autoescape=False))


def one_line(value: str) -> str:
    """A header value on one line: a display name (an organization's or a person's) with CR/LF would
    otherwise make Django refuse to send the mail."""
    return " ".join(value.split())


def render_mail(template: str, context: dict) -> tuple[str, str, str | None]:
    """Subject, text and HTML (None without an HTML template) from `<template>_subject.txt`,
    `<template>.txt` and `<template>.html`."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = one_line(render_plain(f"{template}_subject.txt", context))
    text = render_plain(f"{template}.txt", context)
    try:
        html = render_to_string(f"{template}.html", context)
    except TemplateDoesNotExist:
        html = None
    return subject, text, html


def mail_message(
    subject: str,
    text: str,
    html: str | None,
    *,
    to: list[str],
    from_email: str | None = None,
    reply_to: list[str] | None = None,
    headers: dict | None = None,
    connection=None,
    attachments: list[tuple[str, bytes, str]] | None = None,
    message_id: str | None = None,
) -> EmailMultiAlternatives:
    """A mail ready to send, with a Message-ID. `attachments`: (filename, content, mimetype) tuples."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=one_line(from_email or settings.DEFAULT_FROM_EMAIL),
        to=to,
        reply_to=reply_to,
        headers={"Message-ID": message_id or make_msgid(domain="cxprogram"), **(headers or {})},
        connection=connection,
        attachments=attachments,
    )
    if html:
        message.attach_alternative(html, "text/html")
    return message


def send_templated_mail(*, template: str, context: dict, **fields) -> str:
    """Render and send a mail (see `render_mail` and `mail_message` for the fields); returns its Message-ID."""
    message = mail_message(*render_mail(template, context), **fields)
    message.send()
    return message.extra_headers["Message-ID"]


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        from .models import OutboxMessage

        for message in email_messages:
            html = next((c for c, mime in getattr(message, "alternatives", []) if mime == "text/html"), "")
            OutboxMessage.objects.create(
                to=", ".join(message.to),
                from_email=message.from_email,
                subject=message.subject,
                body_text=message.body,
                body_html=html,
                headers={k: str(v) for k, v in message.extra_headers.items()},
            )
        return len(email_messages)
