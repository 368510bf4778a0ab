"""A correction right after a request sent without summary sends it again, corrected; values
with no request otherwise get the likely topics (tests/actions/rasa_loop.py drives Rasa's own
form machinery)."""

from __future__ import annotations

from actions.account_forms import ValidateForgotIdentifierForm
from actions.accounts import ActionSubmitIdentifierReminder
from actions.late_corrections import ActionTakeValues
from tests.actions.rasa_loop import Conversation, entity
from tests.actions.test_verification import FakePortal

REMINDERS = ("POST", "/identifier-reminders")


def reminder_chat() -> tuple[Conversation, FakePortal]:
    portal = FakePortal(
        {REMINDERS: (202, {"status": "accepted"}), ("POST", "/handoffs"): (201, {})}
    )
    client = portal.client()
    chat = Conversation(
        [
            ValidateForgotIdentifierForm(),
            ActionSubmitIdentifierReminder(client),
            ActionTakeValues(client),
        ]
    )
    return chat, portal


async def sent_with(chat: Conversation, number: str) -> list[str]:
    await chat.user("j'ai oublié mon identifiant", intent="forgot_identifier")
    await chat.run("forgot_identifier_form")
    await chat.user("Lefebvre")
    await chat.run("forgot_identifier_form")
    await chat.user(number, entities=[entity("client_number", number, number)])
    return await chat.run(
        "forgot_identifier_form", "action_submit_identifier_reminder", "utter_anything_else"
    )


async def test_a_correction_right_after_sending_sends_again_corrected():
    chat, portal = reminder_chat()
    assert await sent_with(chat, "22222222") == [
        "utter_identifier_reminder_sent",
        "utter_anything_else",
    ]
    text = "non pardon c'est 87654321"
    await chat.user(text, entities=[entity("client_number", text, "87654321")])
    said = await chat.run("action_take_values")
    assert said == [
        "utter_value_corrected",
        "utter_identifier_reminder_sent",
        "utter_anything_else",
    ]
    sent = [body for call, body in zip(portal.calls, portal.sent, strict=True) if call == REMINDERS]
    assert [(s["client_number"], s["surname"]) for s in sent] == [
        ("22222222", "Lefebvre"),
        ("87654321", "Lefebvre"),
    ]
    # What was typed is forgotten again once sent.
    assert chat.slot("client_number") is None and chat.slot("surname") is None


async def test_a_refused_correction_sends_nothing_again():
    chat, portal = reminder_chat()
    await sent_with(chat, "22222222")
    await chat.user("98765", entities=[entity("client_number", "98765", "98765")])
    said = await chat.run("action_take_values")
    assert said[0] == "utter_invalid_client_number"
    assert portal.calls.count(REMINDERS) == 1


async def test_values_a_turn_later_are_not_a_correction():
    chat, portal = reminder_chat()
    await sent_with(chat, "22222222")
    await chat.user("merci", intent="thank")
    await chat.run("utter_anything_else")
    await chat.user("87654321", entities=[entity("client_number", "87654321", "87654321")])
    said = await chat.run("action_take_values")
    assert said == ["utter_fallback_topics"]
    assert portal.calls.count(REMINDERS) == 1


async def test_values_with_no_request_get_the_likely_topics():
    chat, portal = reminder_chat()
    await chat.user("87654321", entities=[entity("client_number", "87654321", "87654321")])
    assert await chat.run("action_take_values") == ["utter_fallback_topics"]
    assert REMINDERS not in portal.calls
