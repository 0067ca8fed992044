from django.db import models
from django.utils import timezone


class OutboxMessage(models.Model):
    """A mail kept by the dev outbox backend (the embedded default), so a newcomer can read and
    click every mail the app sent. Never used when a real mail backend is configured."""

    to = models.TextField()
    from_email = models.CharField(max_length=254)
    subject = models.CharField(max_length=998)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.subject
