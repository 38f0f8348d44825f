"""The base of every form: messages in the visitor's language.

Our own validator messages are written in Indonesian and marked with
``N_``; WTForms' built-in ones (e.g. a field over its length) come from
:data:`core.i18n.wtforms_translations`.  After validation every error is
text in the visitor's language, so templates show ``field.errors`` as is.
"""
from __future__ import annotations

from flask_wtf import FlaskForm

from .i18n import Msg, Translated, _, wtforms_translations


def localize_errors(form) -> None:
    for field in form:
        field.errors = [_(e) if isinstance(e, Msg) else Translated(e) for e in field.errors]


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return wtforms_translations

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        localize_errors(self)
        return ok
