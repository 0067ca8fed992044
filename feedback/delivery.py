"""Sending a survey mail exactly once.

A request is claimed (queued → sending, with a claim id) before its mail is built. The switch to "sent"
is a conditional update on that claim, and it is committed *before* the SMTP server is told the message
is complete: the worker sends MAIL, RCPT, DATA and the whole message, commits, and only then sends the
final ".". A worker killed before the commit leaves an unfinished SMTP transaction, which the server
discards, and a request still "sending" that the stuck-request sweep queues again; a worker killed after
the commit has already handed the "." to the kernel. If the claim was lost meanwhile (the sweep gave the
request to another worker), the update matches nothing and the transaction is abandoned instead: no mail.

Mail goes out in groups, so that one commit (one disk flush) covers many mails: each message of a group
has an SMTP connection of its own, kept open from group to group, and every command is written on all of
them before their replies are read, so the group waits for the server once per step, not once per mail.

Backends other than Django's SMTP backend (the dev outbox, an HTTP provider) get commit-then-send.
"""

import smtplib
import socket
from collections.abc import Callable

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import transaction


class ClaimLost(Exception):
    """The request was no longer ours to send when the mail was ready."""


class GroupSender:
    """Sends up to `size` messages at a time with one commit for them all (see the module's docstring)."""

    def __init__(self, size: int = 1):
        self.size = size
        self.backend = get_connection()
        self.smtp_backends: list[SmtpBackend] = []

    def send(
        self, messages: list[EmailMessage], commit: Callable[[list[int]], set[int]]
    ) -> tuple[set[int], dict[int, Exception]]:
        """Send `messages` (at most `size`). `commit(indices)` is called once, with the indices of the
        messages the server is ready to accept, and returns those still ours (committed as sent); only
        those are completed. Returns (indices delivered, {index: error}) where an error is the server
        refusing a message, before the commit (nothing sent) or after it (the finished message)."""
        if not isinstance(self.backend, SmtpBackend):
            held = commit(list(range(len(messages))))
            self.backend.send_messages([messages[i] for i in sorted(held)])
            return held, {}
        if len(messages) > self.size:
            raise ValueError(f"at most {self.size} messages at a time")
        try:
            return self._send_smtp(messages, commit)
        except BaseException:
            # A broken connection, a failed commit, a kill: every transaction still open is abandoned
            # without its final "." (closing a connection discards it), and the next group reconnects.
            for backend in self.smtp_backends:
                self._abandon(backend)
            self.smtp_backends = []
            raise

    def close(self) -> None:
        """Say goodbye on every connection (each is between transactions when a group is done)."""
        for backend in self.smtp_backends:
            backend.close()
        self.smtp_backends = []

    @staticmethod
    def _abandon(backend: SmtpBackend) -> None:
        # Close the socket without QUIT: in the middle of DATA the server would take QUIT for message text
        # and never answer it, and only a closed connection makes it discard the unfinished message.
        if backend.connection is not None:
            backend.connection.close()
            backend.connection = None

    def _connections(self, count: int) -> list[smtplib.SMTP]:
        while len(self.smtp_backends) < count:
            backend = get_connection()
            backend.open()
            # Each message and its final "." go out as separate writes: without this, Nagle's algorithm
            # holds the "." until the server's delayed ACK (tens of milliseconds per mail).
            backend.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            backend.connection.ehlo_or_helo_if_needed()
            self.smtp_backends.append(backend)
        return [backend.connection for backend in self.smtp_backends[:count]]

    def _send_smtp(self, messages, commit) -> tuple[set[int], dict[int, Exception]]:
        smtp = self._connections(len(messages))
        refused: dict[int, Exception] = {}

        def step(pending: list[int], commands, accepted_codes, error) -> list[int]:
            """Write a step's commands on every pending connection, then read the replies: those going on."""
            for i in pending:
                for command in commands(i):
                    smtp[i].putcmd(*command)
            going = []
            for i in pending:
                replies = [smtp[i].getreply() for _ in commands(i)]
                if any(code in accepted_codes for code, _ in replies):
                    going.append(i)
                else:
                    smtp[i].rset()
                    refused[i] = error(i, replies)
            return going

        pending = step(
            list(range(len(messages))),
            lambda i: [("mail", f"FROM:{smtplib.quoteaddr(messages[i].from_email)}")],
            (250,),
            lambda i, replies: smtplib.SMTPSenderRefused(*replies[0], messages[i].from_email),
        )
        pending = step(
            pending,
            lambda i: [("rcpt", f"TO:{smtplib.quoteaddr(r)}") for r in messages[i].recipients()],
            (250, 251),
            lambda i, replies: smtplib.SMTPRecipientsRefused(dict(zip(messages[i].recipients(), replies, strict=True))),
        )
        pending = step(pending, lambda i: [("data",)], (354,), lambda i, replies: smtplib.SMTPDataError(*replies[0]))
        for i in pending:
            body = smtplib._quote_periods(messages[i].message().as_bytes(linesep="\r\n"))
            smtp[i].send(body if body.endswith(b"\r\n") else body + b"\r\n")
        held = commit(pending) if pending else set()
        for i in pending:
            if i in held:
                smtp[i].send(b".\r\n")
        lost = [i for i in pending if i not in held]
        for i in held:
            code, reply = smtp[i].getreply()
            if code != 250:
                refused[i] = smtplib.SMTPDataError(code, reply)
        if lost:
            # Not ours any more: those transactions must never complete, so their connections go.
            for i in sorted(lost, reverse=True):
                self._abandon(self.smtp_backends.pop(i))
        return held - set(refused), refused


class CommitBeforeAcceptConnection(BaseEmailBackend):
    """An email "connection" for `send_templated_mail(connection=...)` that calls `commit(message_id)`
    at the last moment before the message is accepted. `commit` runs in its own transaction and returns
    True when the claim still held; otherwise nothing is delivered and ClaimLost is raised."""

    def __init__(self, atomic=transaction.atomic, **kwargs):
        super().__init__(**kwargs)
        self.atomic = atomic
        self.sender = GroupSender(1)
        self.commit = None
        self.committed = False

    def close(self):
        self.sender.close()

    def _commit(self, message, indices: list[int]) -> set[int]:
        with self.atomic():
            self.committed = self.commit(message.extra_headers.get("Message-ID", ""))
        return set(indices) if self.committed else set()

    def send_messages(self, email_messages):
        for message in email_messages:
            self.committed = False

            delivered, refused = self.sender.send([message], lambda indices, m=message: self._commit(m, indices))
            if refused:
                raise refused[0]
            if not delivered:
                raise ClaimLost
        return len(email_messages)
