"""API tokens end with a logout or a new password.

A token is a bearer credential that outlives the password that obtained it; once the
password is changed (the patient fears it leaked) the old token must stop working too.
"""

from django.contrib.auth.models import User
from django.utils.translation import gettext
from rest_framework.authtoken.models import Token


def revoke_tokens(*, user: User) -> None:
    """Every API token of `user` stops working at once."""
    Token.objects.filter(user=user).delete()


class RevokeTokensOnPasswordChange:
    """Listed in AUTH_PASSWORD_VALIDATORS for its `password_changed` hook, which Django
    calls after any save of a newly set password (the web change and reset forms, the
    admin, `changepassword`, `set_password()` in code) but not after a hash upgrade on
    login. It validates nothing."""

    def validate(self, password: str, user=None) -> None:
        return None

    def password_changed(self, password: str, user=None) -> None:
        if user is not None and user.pk is not None:
            revoke_tokens(user=user)

    def get_help_text(self) -> str:
        # Shown with the other password rules on the change and reset forms: true, and
        # worth knowing before one presses the button.
        return gettext("Setting a new password signs the mobile app out on every device.")


def password_rules_help_html() -> str:
    """The password rules' help without this hook's sentence: for forms that set a first
    password (a new account has no tokens to revoke), not for those that change one."""
    from django.contrib.auth import password_validation

    rules = [
        validator
        for validator in password_validation.get_default_password_validators()
        if not isinstance(validator, RevokeTokensOnPasswordChange)
    ]
    return password_validation.password_validators_help_text_html(rules)
