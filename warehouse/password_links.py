"""Set-password links (issue 13 §1): nobody chooses another person's password. A new account, or one whose owner
lost access, gets a link made of Django's password-reset token (`default_token_generator`); the link opens Django's
`PasswordResetConfirmView` at /accounts/reset/…/. It works once (the token is bound to the password it replaces)
and for `PASSWORD_RESET_TIMEOUT` (three days by default).

The administrator who issued it sees it on the page, to hand over themselves, and it is e-mailed to the account's
address when mail is configured (`EMAIL_URL`). The console backend, the default until then, would print the link to
the log, so nothing is sent through it: a link never appears in a log."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from warehouse.durations import duration_words
from warehouse.errors import InvalidInput, NotPermitted, Reason
from warehouse.users import user_manage_refusal

logger = logging.getLogger(__name__)

# Backends that do not deliver: a link sent through them would reach no one (and the console one logs it).
_NOT_DELIVERING = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


@dataclass(frozen=True)
class PasswordLink:
    url: str
    valid_for: str  # "3 days", in words
    mailed_to: str = ""  # the address it was sent to, "" when it was not
    not_mailed_because: str = ""


def mail_configured() -> bool:
    return settings.EMAIL_BACKEND not in _NOT_DELIVERING


def password_link_issue(*, user: User, actor: User, base_url: str) -> PasswordLink:
    """A set-password link for `user`, mailed when mail is configured. `base_url` is the site's scheme and host as
    the administrator reached it (e.g. https://hub.example.com)."""
    if user.pk == actor.pk:
        raise NotPermitted("Change your own password with “Change password”.")
    refusal = user_manage_refusal(actor, user)
    if refusal:
        raise NotPermitted(refusal)
    if not user.is_active:
        message = "The account is inactive: activate it first."
        raise InvalidInput(message, reasons=[Reason("inactive", message)])
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})
    link = PasswordLink(
        url=base_url.rstrip("/") + path, valid_for=duration_words(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT))
    )
    return _mailed(link, user)


def _mailed(link: PasswordLink, user: User) -> PasswordLink:
    if not mail_configured():
        return PasswordLink(link.url, link.valid_for, not_mailed_because="mail is not configured (EMAIL_URL)")
    if not user.email:
        return PasswordLink(link.url, link.valid_for, not_mailed_because="the account has no e-mail address")
    context = {"user": user, "url": link.url, "valid_for": link.valid_for}
    try:
        send_mail(
            subject="Your 3PL hub account: choose your password",
            message=render_to_string("registration/set_password_email.txt", context),
            from_email=None,
            recipient_list=[user.email],
        )
    except (smtplib.SMTPException, OSError) as exc:
        # The class of the failure only: the message could quote the mail, and the mail holds the link.
        logger.warning("set-password mail for user %s not sent: %s", user.pk, type(exc).__name__)
        return PasswordLink(
            link.url, link.valid_for, not_mailed_because="the mail server could not be reached or refused it"
        )
    return PasswordLink(link.url, link.valid_for, mailed_to=user.email)
