"""The health check answers for the database."""

from sqlalchemy.exc import OperationalError

from focusweb.extensions import db


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_503_when_the_database_does_not_answer(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_healthz_503_with_an_unreachable_server(tmp_path):
    from focusweb import create_app
    from tests.conftest import make_config

    app = create_app(make_config("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
