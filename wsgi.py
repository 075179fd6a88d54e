"""The WSGI entry point: gunicorn wsgi:app, flask --app wsgi <command>.

gunicorn runs with ``--preload`` (Makefile, README): the app is imported and its templates compiled
once, in the master; workers fork from it, so recycling one (``--max-requests``) costs a fork, not
the ~1.9 s of CPU an import of Flask, SQLAlchemy and WeasyPrint takes. Nothing here may open a
database connection (a forked worker would share it).
"""

from focusweb import create_app
from focusweb.templating import compile_templates

app = create_app()
compile_templates(app)
