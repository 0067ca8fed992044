"""Sending a survey mail exactly once.

A request is claimed (queued → sending, with a claim id) before its mail is built. The switch to "sent"
is a conditional update on that claim, and it is committed *before* the SMTP server is told the message
is complete: the worker sends MAIL, RCPT, DATA and the whole message, commits, and only then sends the
final ".". A worker killed before the commit leaves an unfinished SMTP transaction, which the server
discards, and a request still "sending" that the stuck-request sweep queues again; a worker killed after
the commit has already handed the "." to the kernel. If the claim was lost meanwhile (the sweep gave the
request to another worker), the update matches nothing and the transaction is reset instead: no mail.

Backends other than Django's SMTP backend (the dev outbox, an HTTP provider) get commit-then-send.
"""

import smtplib
import socket

from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import transaction


class ClaimLost(Exception):
    """The request was no longer ours to send when the mail was ready."""


class CommitBeforeAcceptConnection(BaseEmailBackend):
    """An email "connection" for `send_templated_mail(connection=...)` that calls `commit(message_id)`
    at the last moment before the message is accepted. `commit` runs in its own transaction and returns
    True when the claim still held; otherwise nothing is delivered and ClaimLost is raised."""

    def __init__(self, atomic=transaction.atomic, backend=None, **kwargs):
        super().__init__(**kwargs)
        self.atomic = atomic
        self.backend = backend or get_connection()
        self.commit = None
        self.committed = False

    def open(self):
        return self.backend.open()

    def close(self):
        return self.backend.close()

    def _commit(self, message) -> None:
        with self.atomic():
            held = self.commit(message.extra_headers.get("Message-ID", ""))
        if not held:
            raise ClaimLost
        self.committed = True

    def send_messages(self, email_messages):
        self.committed = False
        for message in email_messages:
            if isinstance(self.backend, SmtpBackend):
                self._send_smtp(message)
            else:
                self._commit(message)
                self.backend.send_messages([message])
        return len(email_messages)

    def _send_smtp(self, message) -> None:
        backend = self.backend
        if backend.connection is None:
            backend.open()
            # The message and its final "." go out as two writes: without this, Nagle's algorithm holds
            # the "." until the server's delayed ACK (tens of milliseconds per mail).
            backend.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp: smtplib.SMTP = backend.connection
        recipients = message.recipients()
        data = message.message().as_bytes(linesep="\r\n")
        smtp.ehlo_or_helo_if_needed()
        code, reply = smtp.mail(message.from_email)
        if code != 250:
            smtp.rset()
            raise smtplib.SMTPSenderRefused(code, reply, message.from_email)
        refused = {}
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if len(refused) == len(recipients):
            smtp.rset()
            raise smtplib.SMTPRecipientsRefused(refused)
        code, reply = smtp.docmd("data")
        if code != 354:
            smtp.rset()
            raise smtplib.SMTPDataError(code, reply)
        body = smtplib._quote_periods(data)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        smtp.send(body)
        try:
            self._commit(message)
        except BaseException:
            # Not ours any more (or the database failed): abandon the transaction without the final ".".
            smtp.close()
            backend.connection = None
            raise
        smtp.send(b".\r\n")
        code, reply = smtp.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
