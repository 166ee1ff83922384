"""Entry point: `flask --app app …` and WSGI servers (`gunicorn app:app`)."""

from shopmail import create_app

app = create_app()
