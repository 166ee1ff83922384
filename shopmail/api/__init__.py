"""The JSON API blueprint (`/api/v1`), authenticated with bearer tokens, not sessions."""

from flask import Blueprint

api = Blueprint("api", __name__)
