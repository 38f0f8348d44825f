"""Notifications: follows, the inbox, e-mail (outbox and worker), account
settings.  Reacts to domain events (``notify.subscribers``), including the
read-side ``page_chrome_shown`` that gives every page the header's unread
count and the follow button's state; kb/ and forum/ never import it."""
from flask import Blueprint

bp = Blueprint("notify", __name__, template_folder="templates")


@bp.record_once
def _setup(state):
    app = state.app
    from . import cli, mailer

    mailer.config_from_env(app)
    cli.init_app(app)


from . import views  # noqa: E402,F401
