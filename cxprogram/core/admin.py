from .admin_site import register_the_rest

register_the_rest("core")  # the development outbox
