"""Creating and changing the people who use the desk."""

from __future__ import annotations

from shopmail.extensions import db
from shopmail.models import User
from shopmail.models.users import LANGUAGES, ROLES
from shopmail.services import audit

MIN_PASSWORD_LENGTH = 10


class UserError(ValueError):
    """A user change that cannot be made; the message says why."""


def create_user(
    email: str,
    password: str,
    role: str = "staff",
    name: str = "",
    language: str = "ja",
    actor: User | str | None = None,
) -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if language not in LANGUAGES:
        raise UserError(f"language must be one of {', '.join(LANGUAGES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if db.session.scalar(db.select(User.id).filter_by(email=email)) is not None:
        raise UserError(f"a user with the e-mail {email} exists already")
    user = User(email=email, name=name, role=role, language=language)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.created", user, email=email, role=role)
    return user
