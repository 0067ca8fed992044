from cxprogram.core.tasks import cx_task

from .context import system_scope, use_organization
from .models import Invitation
from .services import mail_invitation


@cx_task("tenancy.send_invitation_email")
def send_invitation_email(invitation_id: int) -> bool:
    with system_scope():
        invitation = Invitation.objects.select_related("organization", "invited_by").filter(pk=invitation_id).first()
    if invitation is None:
        return False
    with use_organization(invitation.organization):
        return mail_invitation(invitation)
