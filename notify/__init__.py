"""Notifications: follows, the inbox, e-mail (outbox and worker), account
settings.  Reacts to domain events (``notify.subscribers``); kb/ and forum/
never import it."""
from flask import Blueprint

bp = Blueprint("notify", __name__, template_folder="templates")


@bp.record_once
def _setup(state):
    app = state.app
    from . import cli, mailer

    mailer.config_from_env(app)
    cli.init_app(app)

    from flask import g
    from flask_login import current_user
    from sqlalchemy.exc import SQLAlchemyError

    from .services import COUNT_CAP, is_following, unread_count

    def unread_notifications() -> str:
        """The header's unread count ("" when none; "99+" past the cap)."""
        if not current_user.is_authenticated:
            return ""
        if "_unread_notifications" not in g:
            try:
                n = unread_count(current_user)
            except SQLAlchemyError:  # the header must not turn an error page into a 500
                app.logger.exception("unread count failed")
                n = 0
            g._unread_notifications = "" if not n else (f"{COUNT_CAP}+" if n > COUNT_CAP else str(n))
        return g._unread_notifications

    def follow_state(raw_target: str):
        """(target, following) for the follow button; target None if unknown."""
        from .services import NotifyError, resolve_target

        try:
            target = resolve_target(current_user, raw_target)
        except NotifyError:
            return None, False
        return target, is_following(current_user, target.type, target.id)

    app.jinja_env.globals.update(unread_notifications=unread_notifications, follow_state=follow_state)


from . import views  # noqa: E402,F401
