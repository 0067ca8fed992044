"""Unguessable tokens for public links (invitations, surveys, unsubscribe).

A token is an HMAC of a purpose and a random per-row nonce under SECRET_KEY: 256 bits,
URL-safe. Only its SHA-256 is stored (and looked up); a task can derive the token again from the row
to put it in a mail, so the raw token is never stored nor put on the queue. Rotating the nonce
invalidates the old link.
"""

import base64
import hashlib
import hmac
import secrets

from django.conf import settings


def new_nonce() -> str:
    return secrets.token_hex(16)


def make_token(purpose: str, nonce: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{purpose}:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    """Cheap shape check before any database look-up: 43 URL-safe base64 characters."""
    return len(value) == 43 and all(c.isalnum() or c in "-_" for c in value)
