"""CSV import of orders and members: upload → column mapping and row check → apply → result.

The upload lives on disk (var/imports/<id>.csv + a JSON sidecar), so each step has a URL.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField

from shopmail.config import ROOT
from shopmail.data_in import imports
from shopmail.data_in.import_columns import COLUMNS

bp = Blueprint("imports", __name__, url_prefix="/imports")

KINDS = [
    ("orders", _l("Orders (one row per order line)")),
    ("members", _l("Members (one row per member)")),
]


class UploadForm(FlaskForm):
    kind = SelectField(_l("The file contains"), choices=KINDS)
    file = FileField(_l("CSV file (UTF-8 or Shift_JIS)"), validators=[FileRequired()])


class ApplyForm(FlaskForm):
    mode = RadioField(
        _l("When some rows have errors"),
        choices=[
            ("valid", _l("Import the valid rows, skip the rows with errors")),
            ("all", _l("All or nothing: import nothing if any row has an error")),
        ],
        default="valid",
    )


def _directory() -> Path:
    return Path(current_app.config.get("SHOPMAIL_IMPORT_DIR") or ROOT / "var" / "imports")


def _upload(upload_id: str) -> imports.Upload:
    upload = imports.load_upload(_directory(), upload_id)
    if upload is None:
        abort(404)
    return upload


@bp.route("/", methods=["GET", "POST"])
def index():
    form = UploadForm()
    if form.validate_on_submit():
        try:
            data = form.file.data.read()
            upload = imports.save_upload(
                _directory(), form.kind.data, form.file.data.filename, data, current_user
            )
        except imports.ImportProblem as exc:
            flash(str(exc), "error")
        else:
            return redirect(url_for("imports.preview", upload_id=upload.id))
    uploads = imports.recent_uploads(_directory())
    return render_template("imports/index.html", form=form, uploads=uploads)


@bp.get("/<upload_id>")
def preview(upload_id: str):
    upload = _upload(upload_id)
    result = None if upload.result else imports.check(_directory(), upload)
    return render_template(
        "imports/preview.html",
        upload=upload,
        check=result,
        columns=COLUMNS[upload.kind],
        form=ApplyForm(),
        mapping_form=FlaskForm(),
    )


@bp.post("/<upload_id>/mapping")
def mapping(upload_id: str):
    upload = _upload(upload_id)
    if FlaskForm().validate_on_submit() and upload.result is None:
        imports.set_mapping(_directory(), upload, request.form.getlist("column"))
        flash(_l("The column mapping was saved; the rows were checked again."), "success")
    return redirect(url_for("imports.preview", upload_id=upload.id))


@bp.post("/<upload_id>/apply")
def apply(upload_id: str):
    upload, form = _upload(upload_id), ApplyForm()
    if form.validate_on_submit():
        try:
            result = imports.apply(_directory(), upload, form.mode.data == "all", current_user)
        except imports.ImportProblem as exc:
            flash(str(exc), "error")
        else:
            if result["applied"]:
                flash(_l("The file was imported."), "success")
            else:
                flash(_l("Nothing was imported: some rows have errors (all or nothing)."), "error")
    return redirect(url_for("imports.preview", upload_id=upload.id))


@bp.get("/<upload_id>/rejected.csv")
def rejected(upload_id: str):
    upload = _upload(upload_id)
    data = imports.rejected_csv(_directory(), upload, gettext("Reason"))
    name = f"rejected-{Path(upload.filename).stem}.csv"
    return Response(
        data,
        # content_type is sent as written (mimetype= would add a second charset).
        content_type=f"text/csv; charset={'Shift_JIS' if upload.encoding == 'cp932' else 'utf-8'}",
        headers={"Content-Disposition": _attachment(name)},
    )


def _attachment(name: str) -> str:
    return f"attachment; filename=\"rejected.csv\"; filename*=UTF-8''{quote(name)}"
