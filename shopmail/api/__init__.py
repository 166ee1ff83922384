"""The JSON API blueprint (`/api/v1`), authenticated with bearer tokens, not sessions."""

from flask import Blueprint

api = Blueprint("api", __name__)

# The modules add their routes to `api` when imported.
from shopmail.api import auth, openapi, orders, records  # noqa: E402, F401
