import pytest


@pytest.mark.parametrize("path,data", [
    ("/masuk", {"username": "warga01", "password": "kata-sandi-aman"}),
    ("/daftar", {"username": "warga09", "password": "kata-sandi-aman", "confirm": "kata-sandi-aman"}),
    ("/keluar", {}),
])
def test_unsafe_routes_reject_missing_or_forged_token(client, path, data):
    for token in (None, "palsu"):
        payload = dict(data, **({"csrf_token": token} if token else {}))
        resp = client.post(path, data=payload)
        assert resp.status_code == 400, (path, token)
        assert "Muat ulang halaman" in resp.get_data(as_text=True)


def test_forged_request_changes_nothing(app, client):
    import sqlalchemy as sa

    from core.extensions import db
    from core.models import User

    client.post("/daftar", data={"username": "penyusup", "password": "kata-sandi-aman", "confirm": "kata-sandi-aman"})
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.username == "penyusup")) is None


def test_every_post_form_carries_a_token(client):
    for path in ("/masuk", "/daftar"):
        html = client.get(path).get_data(as_text=True)
        assert html.count('method="post"') == html.count('name="csrf_token"')
