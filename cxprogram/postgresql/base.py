"""Django's PostgreSQL backend, with a health check that costs no round trip on a healthy connection.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` on a kept connection before a request uses it, so a
connection broken by a database restart is replaced instead of failing the request: a round trip on
every request. A server that ends a session (a restart, a terminated backend, a timeout) sends its
error and closes the socket; between requests an idle connection has nothing else to read. So the
`SELECT 1` is sent only when the socket has something to read, or cannot be asked (go-sql-driver/mysql
checks the connections it reuses the same way)."""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        due = self.connection is not None and self.health_check_enabled and not self.health_check_done
        if due and not _server_has_spoken(self.connection):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def _server_has_spoken(connection) -> bool:
    """True if the idle connection's socket has input waiting (or is closed): Django's check decides then."""
    if connection.closed:
        return True
    try:
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError, base.Database.Error):
        return True
    return bool(readable)
