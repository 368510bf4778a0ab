"""The graph component adds the entity ``language`` only to messages clearly in a language,
and it is the pipeline's (config.yml) so that the running assistant uses it."""

from __future__ import annotations

from pathlib import Path

import yaml
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.language_entity import LanguageEntityExtractor

ROOT = Path(__file__).resolve().parents[2]
EXISTING = {"entity": "client_number", "value": "87654321", "start": 0, "end": 8}


def extractor(tmp_path: Path) -> LanguageEntityExtractor:
    return LanguageEntityExtractor.create(
        LanguageEntityExtractor.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("language"),
        ExecutionContext(graph_schema=None),
    )


def languages(message: Message) -> list[str]:
    return [e["value"] for e in message.get(ENTITIES, []) if e["entity"] == "language"]


def test_a_clear_message_gets_its_language_and_keeps_other_entities(tmp_path: Path) -> None:
    english = Message({TEXT: "I forgot my password"})
    french = Message({TEXT: "87654321 c'est mon numéro client", ENTITIES: [dict(EXISTING)]})
    extractor(tmp_path).process([english, french])
    assert languages(english) == ["en"]
    assert languages(french) == ["fr"]
    assert EXISTING in french.get(ENTITIES)


def test_values_get_no_language_entity(tmp_path: Path) -> None:
    messages = [Message({TEXT: text}) for text in ("ok", "12345678", "Martin", "a@example.org")]
    extractor(tmp_path).process(messages)
    assert [languages(message) for message in messages] == [[], [], [], []]


def test_the_pipeline_runs_the_component_and_the_slot_follows_its_entity() -> None:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    names = [component["name"] for component in config["pipeline"]]
    assert "bot.nlu.language_entity.LanguageEntityExtractor" in names
    slot = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["slots"]["language"]
    assert slot["initial_value"] == "fr"
    assert slot["influence_conversation"] is False
    assert slot["mappings"] == [{"type": "from_entity", "entity": "language"}]
