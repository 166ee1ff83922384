"""Creating and changing the people who use the desk: roles, activation, passwords, language.

Every change is recorded in the audit trail and left in the session for the caller to commit.
A change that would leave the desk without an active admin is refused and changes nothing.
"""

from __future__ import annotations

import secrets
import string

from flask_babel import gettext

from shopmail.core import audit
from shopmail.core.states import Role
from shopmail.extensions import db
from shopmail.models import User
from shopmail.models.users import LANGUAGES, ROLES

MIN_PASSWORD_LENGTH = 10
GENERATED_PASSWORD_LENGTH = 16
# No look-alikes (0/O, 1/l/I), so a password read off the screen is typed right the first time.
_PASSWORD_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


def _(message: str) -> str:
    """Marks a message for translation; `UserError.translated()` translates it when shown.

    Services also run outside a request (the CLI), where there is no locale to translate to,
    so messages stay English until a view asks for them in the user's language.
    """
    return message


class UserError(ValueError):
    """A user change that cannot be made; the message says why (English, `%(name)s` params)."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def translated(self) -> str:
        """The message in the current user's language (needs a request)."""
        return gettext(self.message, **self.params)


class WrongPasswordError(UserError):
    """The current password given to confirm a change is not the user's."""


def password_problem(password: str, email: str) -> UserError | None:
    """Why a new password is too weak, or None when it is strong enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return UserError(_("The password needs at least %(n)s characters."), n=MIN_PASSWORD_LENGTH)
    if len(set(password)) == 1:
        return UserError(_("The password must not be one character repeated."))
    if password.strip().lower() == email.strip().lower():
        return UserError(_("The password must not be the e-mail address."))
    return None


def generate_password() -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _i in range(GENERATED_PASSWORD_LENGTH))


def create_user(
    email: str,
    password: str,
    role: str = Role.STAFF,
    name: str = "",
    language: str = "ja",
    actor: User | str | None = None,
) -> User:
    email = email.strip().lower()
    _check_choice(role, ROLES)
    _check_choice(language, LANGUAGES)
    if problem := password_problem(password, email):
        raise problem
    if db.session.scalar(db.select(User.id).filter_by(email=email)) is not None:
        raise UserError(_("A user with the e-mail %(email)s exists already."), email=email)
    user = User(email=email, name=name.strip(), role=role, language=language)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.created", user, email=email, role=role)
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(db.select(User).order_by(User.active.desc(), User.email)))


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def change_role(user: User, role: str, actor: User | str | None) -> bool:
    """Give `user` the role; False when it had it already (nothing recorded)."""
    _check_choice(role, ROLES)
    if role == user.role:
        return False
    if role != Role.ADMIN:
        _keep_an_admin(user)
    before, user.role = user.role, role
    audit.record(actor, "user.role_changed", user, email=user.email, old=before, new=role)
    return True


def end_sessions(user: User) -> None:
    """Every session of the user ends, on every device, remember-me cookies included: their
    id carries the session version, which no longer matches."""
    user.session_version = (user.session_version or 0) + 1


def deactivate(user: User, actor: User | str | None) -> bool:
    """Stop the user logging in and end every session of theirs; False when already inactive."""
    if not user.active:
        return False
    _keep_an_admin(user)
    user.active = False
    end_sessions(user)
    audit.record(actor, "user.deactivated", user, email=user.email)
    return True


def reactivate(user: User, actor: User | str | None) -> bool:
    if user.active:
        return False
    user.active = True
    audit.record(actor, "user.reactivated", user, email=user.email)
    return True


def reset_password(user: User, actor: User | str | None) -> str:
    """Give the user a generated password (returned, to be shown once) and end their sessions."""
    password = generate_password()
    user.set_password(password)
    audit.record(actor, "user.password_reset", user, email=user.email)
    return password


def change_own_password(user: User, current: str, new: str) -> None:
    """The user's own password change: the current one must be right, the new one strong.

    Every session of the user ends (the session version moves on); the caller logs the
    current session in again so only the *other* sessions end.
    """
    if not user.check_password(current):
        raise WrongPasswordError(_("The current password is not right."))
    if problem := password_problem(new, user.email):
        raise problem
    if user.check_password(new):
        raise UserError(_("The new password is the same as the current one."))
    user.set_password(new)
    audit.record(user, "account.password_changed", user)


def change_language(user: User, language: str) -> bool:
    _check_choice(language, LANGUAGES)
    if language == user.language:
        return False
    before, user.language = user.language, language
    audit.record(user, "account.language_changed", user, old=before, new=language)
    return True


def _check_choice(value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UserError(
            _("%(value)s is not one of %(allowed)s."), value=value, allowed=", ".join(allowed)
        )


def _keep_an_admin(user: User) -> None:
    """Refuse to demote or deactivate the last active admin."""
    if not (user.is_admin and user.active):
        return
    # Lock the active admins' rows (PostgreSQL) so two admins cannot demote each other at once.
    admins = db.session.scalars(
        db.select(User.id).filter_by(role=Role.ADMIN, active=True).with_for_update()
    ).all()
    if set(admins) <= {user.id}:
        raise UserError(
            _(
                "%(email)s is the last active admin: the desk needs at least one. "
                "Make another user an admin first."
            ),
            email=user.email,
        )
