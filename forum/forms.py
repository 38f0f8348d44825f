from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .models import FLAG_REASONS
from .services import BODY_MAX, COMMENT_MAX, TITLE_MAX


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):  # unknown slugs are reported by the service layer
        pass


class AskForm(FlaskForm):
    title = StringField("Judul pertanyaan", validators=[DataRequired("Judul wajib diisi."), Length(max=TITLE_MAX + 50)])
    body = TextAreaField("Uraian", validators=[DataRequired("Uraian wajib diisi."), Length(max=BODY_MAX)])
    tags = StringField("Tag (opsional, pisahkan dengan koma)", validators=[Optional(), Length(max=200)])
    services = MultiCheckboxField("Layanan terkait (opsional)", choices=[])


class AnswerForm(FlaskForm):
    body = TextAreaField("Jawaban Anda", validators=[DataRequired("Jawaban wajib diisi."), Length(max=BODY_MAX)])


class CommentForm(FlaskForm):
    body = TextAreaField("Komentar", validators=[DataRequired("Komentar wajib diisi."), Length(max=COMMENT_MAX)])


class EditForm(FlaskForm):
    version = HiddenField()
    title = StringField("Judul pertanyaan", validators=[Optional(), Length(max=TITLE_MAX + 50)])
    tags = StringField("Tag", validators=[Optional(), Length(max=200)])
    body = TextAreaField("Isi", validators=[DataRequired("Isi wajib diisi."), Length(max=BODY_MAX)])
    comment = StringField("Ringkasan perubahan (opsional)", validators=[Optional(), Length(max=300)])


class FlagForm(FlaskForm):
    reason = RadioField("Alasan", choices=list(FLAG_REASONS.items()),
                        validators=[DataRequired("Pilih alasan penandaan.")])
    note = TextAreaField("Keterangan", validators=[Optional(), Length(max=500)])


class CloseForm(FlaskForm):
    target = StringField("Nomor atau alamat pertanyaan asli", validators=[DataRequired("Isi nomor pertanyaan asli.")])


class VoteForm(FlaskForm):
    value = IntegerField(validators=[DataRequired()])
