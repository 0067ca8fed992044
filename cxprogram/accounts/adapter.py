from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        # The home view sends people on: to a pending invitation, to their organization, or to create one.
        pending = request.session.get("pending_invitation_url")
        return pending or super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request):
        return self.get_login_redirect_url(request)
