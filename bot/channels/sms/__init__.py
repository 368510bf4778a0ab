"""SMS channel over Twilio: a signed webhook in, Twilio's REST API out.

``credentials.yml`` names ``bot.channels.sms.SmsInput``::

    Twilio ──> webhook.SmsInput ── signature, each MessageSid once, 200 at once
                 └─> handling.SmsHandler ── STOP/START, numbered choices, MMS notice ──> Rasa
    Rasa ──> output.SmsOutput ──> twilio_api (client, retries) ──> Twilio

    text ........ parts of 600 characters, numbered choices, keywords (pure functions)
    wording ..... the channel's own sentences (messages_fr.yml, section ``sms``)
    opt_outs .... numbers that texted STOP (SQLite: durable, shared by the processes)
    memory ...... choices offered (one hour), MessageSids accepted (one day): in memory, or
                  in Redis shared by several Rasa servers (``bot.channels.state``);
                  one lock per number in hand (this process)
    log_safe .... numbers masked ("+33*******78"), SIDs as logs show them; never a body
"""

from bot.channels.sms.output import SmsOutput
from bot.channels.sms.webhook import SmsInput

__all__ = ["SmsInput", "SmsOutput"]
