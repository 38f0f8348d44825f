from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .services import BODY_MAX, COMMENT_MAX, TITLE_MAX

# Flag reasons and linked services are checked by forum.services against
# FLAG_REASONS and the service table; the forms only carry the raw values.


class AskForm(FlaskForm):
    title = StringField("Judul pertanyaan", validators=[DataRequired("Judul wajib diisi."), Length(max=TITLE_MAX + 50)])
    body = TextAreaField("Uraian", validators=[DataRequired("Uraian wajib diisi."), Length(max=BODY_MAX)])
    tags = StringField("Tag (opsional, pisahkan dengan koma)", validators=[Optional(), Length(max=200)])


class AnswerForm(FlaskForm):
    body = TextAreaField("Isi jawaban", validators=[DataRequired("Jawaban wajib diisi."), Length(max=BODY_MAX)])


class CommentForm(FlaskForm):
    body = TextAreaField("Komentar", validators=[DataRequired("Komentar wajib diisi."), Length(max=COMMENT_MAX)])


class EditForm(FlaskForm):
    version = HiddenField()
    title = StringField("Judul pertanyaan", validators=[Optional(), Length(max=TITLE_MAX + 50)])
    tags = StringField("Tag", validators=[Optional(), Length(max=200)])
    body = TextAreaField("Isi", validators=[DataRequired("Isi wajib diisi."), Length(max=BODY_MAX)])
    comment = StringField("Ringkasan perubahan (opsional)", validators=[Optional(), Length(max=300)])


class FlagForm(FlaskForm):
    reason = StringField("Alasan", validators=[DataRequired("Pilih alasan penandaan."), Length(max=20)])
    note = TextAreaField("Keterangan", validators=[Optional(), Length(max=500)])


class CloseForm(FlaskForm):
    target = StringField("Nomor atau alamat pertanyaan asli", validators=[DataRequired("Isi nomor pertanyaan asli.")])

