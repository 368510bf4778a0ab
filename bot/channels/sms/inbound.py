"""What the SMS channel reads of Twilio's webhook form."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from sanic.request import Request, RequestParameters


def twilio_form(request: Request) -> RequestParameters:
    """The webhook's form with its empty fields: Twilio signs ``Body=`` of a photo too.

    (Sanic's ``request.form`` drops empty fields, which would fail the signature.)
    """
    body = request.body.decode("utf-8", errors="replace")
    return RequestParameters(parse_qs(body, keep_blank_values=True))


@dataclass(frozen=True)
class InboundSms:
    """What the channel reads of Twilio's webhook form."""

    sid: str
    sender: str
    text: str
    num_media: int

    @classmethod
    def from_form(cls, form: RequestParameters) -> InboundSms | None:
        sid, sender = form.get("MessageSid"), form.get("From")
        if not sid or not sender:
            return None
        try:
            num_media = int(form.get("NumMedia") or 0)
        except ValueError:
            num_media = 0
        # Some carriers turn "@" into "¡" (GSM-7 code 0x00 read as Latin-1).
        text = (form.get("Body") or "").replace("¡", "@").strip()
        return cls(sid=sid, sender=sender, text=text, num_media=num_media)
