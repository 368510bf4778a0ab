"""A very long message goes to the fallback; short ones keep their intent."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from bot.nlu.long_messages import LongMessageFallback


def classified(text: str, intent: str = "goodbye") -> Message:
    return Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": 0.7},
            "intent_ranking": [
                {"name": intent, "confidence": 0.7},
                {"name": "login_help", "confidence": 0.2},
            ],
            "entities": [{"entity": "client_number", "value": "87654321"}],
        }
    )


def test_a_long_story_is_not_taken_for_a_goodbye():
    text = " ".join(["bonjour je vous écris parce que depuis des semaines"] * 8) + " 87654321"
    (message,) = LongMessageFallback({"max_words": 40}).process([classified(text)])
    assert message.get("intent")["name"] == "nlu_fallback"
    ranking = [item["name"] for item in message.get("intent_ranking")]
    assert ranking == ["nlu_fallback", "goodbye", "login_help"]
    assert message.get("entities") == [{"entity": "client_number", "value": "87654321"}]


def test_a_short_message_keeps_its_intent():
    (message,) = LongMessageFallback({"max_words": 40}).process([classified("au revoir")])
    assert message.get("intent")["name"] == "goodbye"
