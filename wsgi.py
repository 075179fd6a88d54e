"""The WSGI entry point: gunicorn wsgi:app, flask --app wsgi <command>."""

from focusweb import create_app

app = create_app()
