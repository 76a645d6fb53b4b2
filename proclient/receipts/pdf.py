"""PDF rendering of the accusé de création and of the secrets sheet (reportlab platypus).

Two page formats share the same content blocks: ``"a4"`` (laser printer) and ``"80mm"``
(thermal receipt roll: 80 mm wide, height fitted to the content). Output is deterministic:
the same receipt gives byte-identical PDFs (``invariant=1``, fixed metadata, no clock read).
The metadata never names the patient: title, subject and author are generic.
"""

from __future__ import annotations

import functools
import io
import itertools
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfdoc import PDFDate, PDFDictionary, PDFInfo, PDFName, PDFString
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    HRFlowable,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from proclient.core.records import CreationReceipt, RecordedSlip, SecretsSheet
from proclient.receipts.content import (
    STATEMENT_KEY,
    Document,
    Row,
    receipt_content,
    secrets_content,
    slip_content,
)
from proclient.receipts.fonts import BOLD, MONO_BOLD, REGULAR, register_fonts

PAGES = ("a4", "80mm")
PRODUCER = "proclient"
_ROLL_WIDTH = 80 * mm
_PROBE_HEIGHT = 5000 * mm  # tall enough for any receipt, measured then cut to size


@dataclass(frozen=True)
class _Layout:
    """Sizes for one page format."""

    size: tuple[float, float]
    margin_x: float
    margin_y: float
    title: float
    body: float
    label: float
    secret_max: float
    roll: bool

    @property
    def width(self) -> float:
        return self.size[0] - 2 * self.margin_x


_A4 = _Layout(A4, 18 * mm, 12 * mm, 17, 9.5, 8.5, 22, roll=False)
_ROLL = _Layout((_ROLL_WIDTH, _PROBE_HEIGHT), 4 * mm, 5 * mm, 13, 8.5, 7.5, 15, roll=True)


def _layout(page: str) -> _Layout:
    if page == "a4":
        return _A4
    if page == "80mm":
        return _ROLL
    raise ValueError(f"page must be one of {PAGES}, not {page!r}")


def _styles(lay: _Layout) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=lay.body, leading=lay.body * 1.3)
    return {
        "title": ParagraphStyle(
            "title",
            parent=body,
            fontName=BOLD,
            fontSize=lay.title,
            leading=lay.title * 1.25,
            alignment=TA_CENTER if lay.roll else 0,
            spaceAfter=lay.body * 0.6,
        ),
        "banner": ParagraphStyle(
            "banner",
            parent=body,
            fontName=BOLD,
            fontSize=lay.body * 1.2,
            leading=lay.body * 1.5,
            alignment=TA_CENTER,
        ),
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontName=BOLD,
            fontSize=lay.body * 1.1,
            leading=lay.body * 1.4,
            spaceBefore=lay.body * 0.75,
            spaceAfter=1,
        ),
        "label": ParagraphStyle(
            "label",
            parent=body,
            fontSize=lay.label,
            leading=lay.label * 1.3,
            textColor=colors.black if lay.roll else colors.HexColor("#333333"),
        ),
        "value": ParagraphStyle("value", parent=body, fontName=BOLD),
        "note": ParagraphStyle(
            "note",
            parent=body,
            leftIndent=lay.body,
            bulletIndent=0,
            spaceBefore=1,
            bulletFontName=REGULAR,
        ),
        "qr": ParagraphStyle(
            "qr", parent=body, fontSize=lay.label, leading=lay.label * 1.2, alignment=TA_CENTER
        ),
        "footer_tight": ParagraphStyle(
            "footer_tight", parent=body, fontSize=lay.label, leading=lay.label * 1.25
        ),
        "footer": ParagraphStyle(
            "footer",
            parent=body,
            fontSize=lay.label,
            leading=lay.label * 1.3,
            spaceBefore=lay.body * 1.5,
        ),
    }


def _secret_style(value: str, lay: _Layout, width: float) -> ParagraphStyle:
    """Mono, as large as fits on one line (a login or password must never wrap)."""
    size = lay.secret_max
    natural = stringWidth(value or " ", MONO_BOLD, size)
    if natural > width:
        size = max(6.0, size * width / natural * 0.98)
    return ParagraphStyle("secret", fontName=MONO_BOLD, fontSize=size, leading=size * 1.3)


def _rows_a4(rows: tuple[Row, ...], lay: _Layout, st: dict[str, ParagraphStyle]) -> Flowable:
    label_w = lay.width * 0.42
    value_w = lay.width - label_w
    data = []
    for row in rows:
        if row.secret:
            value = Paragraph(escape(row.value), _secret_style(row.value, lay, value_w - 4))
        else:
            value = Paragraph(escape(row.value), st["value"])
        data.append([Paragraph(escape(row.label), st["label"]), value])
    table = Table(data, colWidths=[label_w, value_w], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LINEBELOW", (0, 0), (-1, -2), 0.25, colors.HexColor("#BBBBBB")),
            ]
        )
    )
    return table


def _rows_roll(
    rows: tuple[Row, ...], lay: _Layout, st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    out: list[Flowable] = []
    for row in rows:
        if row.secret:
            out.append(Paragraph(escape(row.label), st["label"]))
            out.append(Paragraph(escape(row.value), _secret_style(row.value, lay, lay.width)))
        else:
            out.append(Paragraph(f"{escape(row.label)} : <b>{escape(row.value)}</b>", st["label"]))
    return out


def _banner(text: str, lay: _Layout, st: dict[str, ParagraphStyle]) -> Flowable:
    table = Table([[Paragraph(escape(text), st["banner"])]], colWidths=[lay.width])
    style = [("FONT", (0, 0), (-1, -1), REGULAR), ("BOX", (0, 0), (-1, -1), 1.5, colors.black)]
    if not lay.roll:  # no grey fill on a thermal roll: it prints as noise
        style.append(("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#EEEEEE")))
    table.setStyle(TableStyle(style))
    return table


@functools.lru_cache(maxsize=4)
def _qr_runs(url: str) -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """The QR matrix of ``url`` as (size, dark runs (row, first column, length)): encoded once
    per process. Encoding and reportlab's widget (one shape per run) cost more than the
    whole rest of the accusé."""
    from reportlab.graphics.barcode import qrencoder

    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(url)
    code.make()
    runs = []
    for r, row in enumerate(code.modules):
        c = 0
        for dark, group in itertools.groupby(bool(m) for m in row):
            count = len(list(group))
            if dark:
                runs.append((r, c, count))
            c += count
    return code.getModuleCount(), tuple(runs)


class _Qr(Flowable):
    """A QR code of a public address (never of anything about the patient): one filled path."""

    _BORDER = 2  # quiet zone, in modules

    def __init__(self, url: str, side: float) -> None:
        super().__init__()
        self.url, self.width, self.height = url, side, side

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        count, runs = _qr_runs(self.url)
        box = self.width / (count + 2 * self._BORDER)
        path = self.canv.beginPath()
        for r, c, length in runs:
            path.rect(
                (c + self._BORDER) * box,
                self.height - (r + self._BORDER + 1) * box,
                length * box,
                box,
            )
        self.canv.setFillColor(colors.black)
        self.canv.drawPath(path, stroke=0, fill=1)


def _qr(url: str, side: float) -> Flowable:
    return _Qr(url, side)


def _with_qr(
    notes: list[Flowable], url: str, lay: _Layout, st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    caption = Paragraph(escape(url.removeprefix("https://")), st["qr"])
    if lay.roll:  # one column: the code under the sentences, centred
        code = Table([[_qr(url, 24 * mm)], [caption]], colWidths=[lay.width])
        code.setStyle(
            TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("FONT", (0, 0), (-1, -1), REGULAR)])
        )
        return [*notes, Spacer(1, 2), code]
    side = 26 * mm
    table = Table(
        [[notes, [_qr(url, side), caption]]],
        colWidths=[lay.width - 42 * mm, 42 * mm],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "CENTER"),
                ("FONT", (0, 0), (-1, -1), REGULAR),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [table]


# The signed statement's QR code (about 280 characters, alphanumeric mode, level M: a version
# 10 code, 57 modules): on A4 in the header, top right, as official 2D codes are (0.45 mm a
# module on a laser printer); on the roll at the end, larger (0.65 mm: a thermal head's dots).
_CODE_SIDE_A4, _CODE_SIDE_ROLL = 27 * mm, 40 * mm


def _title_with_code(doc: Document, lay: _Layout, st: dict[str, ParagraphStyle]) -> Flowable:
    side = _CODE_SIDE_A4
    text = [
        Paragraph(escape(doc.title), st["title"]),
        Paragraph(escape(doc.statement_note), st["footer_tight"]),
    ]
    table = Table(
        [[text, _qr(doc.statement or "", side)]],
        colWidths=[lay.width - side - 6 * mm, side + 6 * mm],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _code_at_the_end(doc: Document, lay: _Layout, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    block = Table([[_qr(doc.statement or "", _CODE_SIDE_ROLL)]], colWidths=[lay.width])
    block.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER")]))
    return [Spacer(1, lay.body), block, Paragraph(escape(doc.statement_note), st["qr"])]


def _story(doc: Document, lay: _Layout) -> list[Flowable]:
    st = _styles(lay)
    if doc.statement and not lay.roll:
        story: list[Flowable] = [_title_with_code(doc, lay, st)]
    else:
        story = [Paragraph(escape(doc.title), st["title"])]
    if doc.banner:
        story += [_banner(doc.banner, lay, st), Spacer(1, lay.body * 0.5)]
    for section in doc.sections:
        story.append(Paragraph(escape(section.title), st["heading"]))
        story.append(HRFlowable(width="100%", thickness=0.8, color=colors.black, spaceAfter=2))
        if section.rows:
            if lay.roll:
                story += _rows_roll(section.rows, lay, st)
            else:
                story.append(_rows_a4(section.rows, lay, st))
        notes = [Paragraph(escape(note), st["note"], bulletText="•") for note in section.notes]
        if section.qr:
            story += _with_qr(notes, section.qr, lay, st)
        else:
            story += notes
    if doc.statement and lay.roll:
        story += _code_at_the_end(doc, lay, st)
    for line in doc.footer:
        story.append(Paragraph(escape(line), st["footer"]))
    if doc.banner:
        story += [Spacer(1, lay.body * 0.8), _banner(doc.banner, lay, st)]
    return story


class _Template(BaseDocTemplate):
    """One frame without padding; records where the last flowable ended (roll sizing)."""

    def __init__(self, out, doc: Document, lay: _Layout, size: tuple[float, float]) -> None:
        super().__init__(
            out,
            pagesize=size,
            leftMargin=lay.margin_x,
            rightMargin=lay.margin_x,
            topMargin=lay.margin_y,
            bottomMargin=lay.margin_y,
            title=doc.meta_title,
            author=PRODUCER,
            subject="",
            creator=PRODUCER,
            producer=PRODUCER,
            keywords=[],
            invariant=1,
            lang="fr-FR",
            initialFontName=REGULAR,
            displayDocTitle=True,
        )
        frame = Frame(
            lay.margin_x,
            lay.margin_y,
            lay.width,
            size[1] - 2 * lay.margin_y,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
            id="body",
        )
        watermark = doc.banner if doc.banner and not lay.roll else None
        self.addPageTemplates(
            [PageTemplate("page", [frame], onPage=lambda c, _d: _watermark(c, size, watermark))]
        )
        self.last_y = size[1]
        self.statement = doc.statement

    def beforeDocument(self) -> None:  # noqa: N802 (reportlab hook)
        if self.statement:
            self.canv._doc.info = _StatementInfo(self.canv._doc.info, self.statement)

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 (reportlab hook)
        self.last_y = min(self.last_y, self.frame._y)


class _StatementInfo(PDFInfo):
    """The document information dictionary with one more entry, ``/ProclientStatement``: the
    signed statement's text, so that ``proclient verify FILE.pdf`` reads it without decoding
    the image (it is what the 2D code shows: no name, no full NIR, no password)."""

    def __init__(self, base: PDFInfo, statement: str) -> None:
        super().__init__()
        self.__dict__.update(base.__dict__)
        self.statement = statement

    def format(self, document) -> bytes:
        entries = {
            "Title": PDFString(self.title),
            "Author": PDFString(self.author),
            "Producer": PDFString(self.producer),
            "Creator": PDFString(self.creator),
            "Subject": PDFString(self.subject),
            "Keywords": PDFString(self.keywords),
            "Trapped": PDFName(self.trapped),
            STATEMENT_KEY: PDFString(self.statement),
        }
        date = PDFDate(ts=document._timeStamp, dateFormatter=self._dateFormatter)
        entries["ModDate"] = entries["CreationDate"] = date
        return PDFDictionary(entries).format(document)


def _watermark(canvas, size: tuple[float, float], text: str | None) -> None:
    if not text:
        return
    canvas.saveState()
    canvas.setFillColor(colors.HexColor("#E4E4E4"))
    canvas.setFont(BOLD, 44)
    canvas.translate(size[0] / 2, size[1] / 2)
    canvas.rotate(50)
    canvas.drawCentredString(0, 0, text.split(" — ")[0])
    canvas.restoreState()


def _render(doc: Document, page: str) -> bytes:
    register_fonts()
    lay = _layout(page)
    size = lay.size
    story = _story(doc, lay)
    if lay.roll:
        # Lay the story out once on a very tall page to measure it, then cut the roll to
        # that length. The probe skips writing its PDF (reportlab's _doSave hook: fonts
        # subsetting and compression are half the cost) and the same flowables are reused,
        # so the paragraphs are parsed once (nothing splits on a 5 m page).
        probe = _Template(io.BytesIO(), doc, lay, size)
        probe._doSave = 0
        probe.build(list(story))
        used = size[1] - lay.margin_y - probe.last_y
        size = (size[0], round(used + 2 * lay.margin_y + 1, 2))
    out = io.BytesIO()
    _Template(out, doc, lay, size).build(story)
    return out.getvalue()


def render_receipt(
    receipt: CreationReceipt, page: str = "a4", proof_line: str | None = None
) -> bytes:
    """The accusé de création (or de réactivation) as a PDF: ``page`` is "a4" or "80mm";
    ``proof_line``: the closing line saying whether it is signed (receipts/content.py)."""
    return _render(receipt_content(receipt, proof_line), page)


def render_secrets(sheet: SecretsSheet, page: str = "a4", *, demo: bool = False) -> bytes:
    """The separate secrets sheet (login, initial password) as a PDF, to print and hand over.

    Return the bytes only: the caller sends them to the printer and keeps no copy (HOM 112).
    """
    return _render(secrets_content(sheet, demo=demo), page)


def render_slip(slip: RecordedSlip, page: str = "a4") -> bytes:
    """The slip of a creation recorded offline, as a PDF (printed, not saved)."""
    return _render(slip_content(slip), page)
