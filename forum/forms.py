from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.forms import Form
from core.i18n import N_

from .services import BODY_MAX, COMMENT_MAX, TITLE_MAX

# Flag reasons and linked services are checked by forum.services against
# FLAG_REASONS and the service table; the forms only carry the raw values.


class AskForm(Form):
    title = StringField(N_("Judul pertanyaan"), validators=[DataRequired(N_("Judul wajib diisi.")), Length(max=TITLE_MAX + 50)])
    body = TextAreaField(N_("Uraian"), validators=[DataRequired(N_("Uraian wajib diisi.")), Length(max=BODY_MAX)])
    tags = StringField(N_("Tag (opsional, pisahkan dengan koma)"), validators=[Optional(), Length(max=200)])


class AnswerForm(Form):
    body = TextAreaField(N_("Isi jawaban"), validators=[DataRequired(N_("Jawaban wajib diisi.")), Length(max=BODY_MAX)])


class CommentForm(Form):
    body = TextAreaField(N_("Komentar"), validators=[DataRequired(N_("Komentar wajib diisi.")), Length(max=COMMENT_MAX)])


class EditForm(Form):
    version = HiddenField()
    title = StringField(N_("Judul pertanyaan"), validators=[Optional(), Length(max=TITLE_MAX + 50)])
    tags = StringField(N_("Tag"), validators=[Optional(), Length(max=200)])
    body = TextAreaField(N_("Isi"), validators=[DataRequired(N_("Isi wajib diisi.")), Length(max=BODY_MAX)])
    comment = StringField(N_("Ringkasan perubahan (opsional)"), validators=[Optional(), Length(max=300)])


class FlagForm(Form):
    reason = StringField(N_("Alasan"), validators=[DataRequired(N_("Pilih alasan penandaan.")), Length(max=20)])
    note = TextAreaField(N_("Keterangan"), validators=[Optional(), Length(max=500)])


class CloseForm(Form):
    target = StringField(N_("Nomor atau alamat pertanyaan asli"), validators=[DataRequired(N_("Isi nomor pertanyaan asli."))])

