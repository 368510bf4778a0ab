"""Validation queues (``/staff/validations``): insurance certificates and direct-debit requests
waiting for staff, their detail pages, the files tenants sent, and the decisions.

The rules are in ``services/validations.py``; each handler reads the form, calls one service
function in one transaction and redirects (303) to the queue, which confirms the decision.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sanic import Request
from sanic.response import HTTPResponse, raw, redirect

from bot.errors import Conflict, InvalidInput
from bot.policy.french_dates import format_french_date
from bot.portal.models import StoredUpload, utcnow
from bot.staff.errors import StaffNotAllowed
from bot.staff.services import (
    certificate_decisions,
    direct_debit_decisions,
    validation_queue,
)
from bot.staff.web.auth import HEADERS, forbidden, french_datetime, staff_page, staff_required
from bot.web.errors import status_of
from bot.web.headers import SUBMITTED_FILE
from bot.web.inputs import IdBlueprint, client_ip, form_field

bp = IdBlueprint("staff_validations")

QUEUE = "/staff/validations"
CERTIFICATE = f"{QUEUE}/assurance/<certificate_id:id>"
DIRECT_DEBIT = f"{QUEUE}/prelevement/<request_id:id>"
#: What the queue confirms after a decision (``?fait=``).
DONE = {"accepte", "refuse", "complement", "active"}
FILE_HEADERS = SUBMITTED_FILE
_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}

Page = Callable[..., Awaitable[HTTPResponse]]
Decide = Callable[..., Awaitable[object]]


def time_left(delta: timedelta) -> str:
    """``2 j 5 h``, ``3 h 07``, ``12 min``: how long until (or since) a deadline."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} j {hours} h"
    if hours:
        return f"{hours} h {minutes:02d}"
    return f"{minutes} min"


def grouped_iban(iban: str) -> str:
    """The full IBAN in groups of four, as printed on a RIB, to compare with the paper."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _deadline(deadline: datetime, now: datetime | None = None) -> dict[str, object]:
    remaining = deadline - (now or utcnow())
    return {
        "at": french_datetime(deadline),
        "overdue": remaining <= timedelta(0),
        "left": time_left(remaining),
    }


def _file(upload: StoredUpload, name: str) -> HTTPResponse:
    extension = _EXTENSIONS.get(upload.content_type, "bin")
    headers = {**FILE_HEADERS, "Content-Disposition": f'inline; filename="{name}.{extension}"'}
    return raw(upload.data, content_type=upload.content_type, headers=headers)


def _done(done: str) -> HTTPResponse:
    return redirect(f"{QUEUE}?fait={done}", status=303, headers=HEADERS)


# --------------------------------------------------------------------------- the queue


@bp.get(QUEUE)
@staff_required()
async def queue(request: Request) -> HTTPResponse:
    now = utcnow()
    async with request.app.ctx.sessions() as session:
        items = await validation_queue.validation_queue(session=session, now=now)
    done = request.args.get("fait", "")
    return staff_page(
        request,
        "staff/validations.html",
        section="validations",
        items=items,
        deadline=lambda item: _deadline(item.deadline, now),
        when=french_datetime,
        done=done if done in DONE else "",
    )


# --------------------------------------------------------------------------- insurance


async def _certificate_page(
    request: Request,
    certificate_id: int,
    *,
    status: int = 200,
    problem: str = "",
    form: dict[str, str] | None = None,
) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        review = await validation_queue.certificate_review(
            session=session, certificate_id=certificate_id
        )
    return staff_page(
        request,
        "staff/validation_certificate.html",
        status=status,
        section="validations",
        review=review,
        certificate=review.certificate,
        deadline=_deadline(review.deadline),
        when=french_datetime,
        day=format_french_date,
        problem=problem,
        form=form or {"motif": "", "message": ""},
    )


@bp.get(CERTIFICATE)
@staff_required()
async def certificate(request: Request, certificate_id: int) -> HTTPResponse:
    return await _certificate_page(request, certificate_id)


@bp.get(f"{CERTIFICATE}/attestation")
@staff_required()
async def certificate_file(request: Request, certificate_id: int) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        upload = await validation_queue.certificate_file(
            session=session, certificate_id=certificate_id
        )
    return _file(upload, f"attestation-{certificate_id}")


@bp.post(f"{CERTIFICATE}/acceptation")
@staff_required()
async def accept_certificate(request: Request, certificate_id: int) -> HTTPResponse:
    return await _decision(
        request,
        _certificate_page,
        {"certificate_id": certificate_id},
        certificate_decisions.accept_certificate,
        "accepte",
    )


@bp.post(f"{CERTIFICATE}/refus")
@staff_required()
async def reject_certificate(request: Request, certificate_id: int) -> HTTPResponse:
    return await _decision(
        request,
        _certificate_page,
        {"certificate_id": certificate_id},
        certificate_decisions.reject_certificate,
        "refuse",
        field="motif",
    )


@bp.post(f"{CERTIFICATE}/complement")
@staff_required()
async def certificate_information(request: Request, certificate_id: int) -> HTTPResponse:
    return await _decision(
        request,
        _certificate_page,
        {"certificate_id": certificate_id},
        certificate_decisions.request_certificate_information,
        "complement",
        field="message",
    )


# --------------------------------------------------------------------------- direct debit


async def _direct_debit_page(
    request: Request,
    request_id: int,
    *,
    status: int = 200,
    problem: str = "",
    form: dict[str, str] | None = None,
) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        review = await validation_queue.direct_debit_review(session=session, request_id=request_id)
    return staff_page(
        request,
        "staff/validation_direct_debit.html",
        status=status,
        section="validations",
        review=review,
        debit=review.request,
        iban=grouped_iban(review.request.iban),
        deadline=_deadline(review.deadline),
        when=french_datetime,
        problem=problem,
        form=form or {"motif": "", "message": ""},
    )


@bp.get(DIRECT_DEBIT)
@staff_required()
async def direct_debit(request: Request, request_id: int) -> HTTPResponse:
    return await _direct_debit_page(request, request_id)


@bp.get(f"{DIRECT_DEBIT}/rib")
@staff_required()
async def direct_debit_rib(request: Request, request_id: int) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        upload = await validation_queue.direct_debit_rib(session=session, request_id=request_id)
    return _file(upload, f"rib-{request_id}")


@bp.post(f"{DIRECT_DEBIT}/activation")
@staff_required()
async def activate_direct_debit(request: Request, request_id: int) -> HTTPResponse:
    return await _decision(
        request,
        _direct_debit_page,
        {"request_id": request_id},
        direct_debit_decisions.activate_direct_debit,
        "active",
    )


@bp.post(f"{DIRECT_DEBIT}/refus")
@staff_required()
async def reject_direct_debit(request: Request, request_id: int) -> HTTPResponse:
    return await _decision(
        request,
        _direct_debit_page,
        {"request_id": request_id},
        direct_debit_decisions.reject_direct_debit,
        "refuse",
        field="motif",
    )


@bp.post(f"{DIRECT_DEBIT}/complement")
@staff_required()
async def direct_debit_information(request: Request, request_id: int) -> HTTPResponse:
    return await _decision(
        request,
        _direct_debit_page,
        {"request_id": request_id},
        direct_debit_decisions.request_direct_debit_information,
        "complement",
        field="message",
    )


# --------------------------------------------------------------------------- deciding


#: The form field a decision needs -> the service function's keyword.
_NOTE_ARGUMENT = {"motif": "reason", "message": "message"}


async def _decision(
    request: Request,
    page: Page,
    target: dict[str, int],
    decide: Decide,
    done: str,
    *,
    field: str = "",
) -> HTTPResponse:
    """Run one service decision in one transaction, then back to the queue (303). Refused (no
    reason given, decided meanwhile): the detail page again, with the problem and the text."""
    note = ""
    try:
        extra: dict[str, str] = {}
        if field:
            note = form_field(request, field)
            extra[_NOTE_ARGUMENT[field]] = note
        async with request.app.ctx.sessions.begin() as session:
            await decide(
                session=session,
                settings=request.app.ctx.settings,
                staff_id=request.ctx.staff.id,
                ip=client_ip(request),
                **target,
                **extra,
            )
    except StaffNotAllowed:
        return forbidden(request)
    except (InvalidInput, Conflict) as error:
        form = {"motif": "", "message": ""}
        if field:
            form[field] = note
        (item_id,) = target.values()
        return await page(
            request, item_id, status=status_of(error), problem=error.message, form=form
        )
    return _done(done)
