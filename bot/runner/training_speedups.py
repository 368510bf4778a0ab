"""Work ``rasa train`` repeats for nothing, done once.

``bot.runner.rasa_main`` calls :func:`install` before Rasa's own ``main()``, and ``make test``,
``make train`` and ``python -m bot.cli train`` train through it. Each replacement keeps what
Rasa computes; measured with py-spy on a whole ``rasa train`` (``bench/TRAINING.md``).

**Tracing each model once.** Keras's ``fit`` runs the training step as a ``tf.function``.
Rasa's models create their variables lazily, inside the first call, so TensorFlow traces
that step once *with* variable creation and once more *without* (``Function._call``): the
training graph of DIET, of the response selector and of TED, each built twice, was a tenth
of the training. Here, before the first ``fit``, one eager forward pass on the first batch
creates the model's variables and the optimizer creates its slots; the step is then traced
once. The weights are drawn from the same initializers; the optimizer starts from zero as
before, and the metrics the forward pass touched are reset.

**Fingerprints of tokens.** Rasa's training cache fingerprints every message after every
featurizer; a message's fingerprint includes each of its tokens, and ``Token.fingerprint``
hashed the token again each time (serialised to JSON, then MD5). A token's fingerprint is
kept here until ``Token.set`` changes its data, the only way Rasa changes a token.
"""

from __future__ import annotations

from typing import Any

from rasa.nlu.tokenizers.tokenizer import Token
from rasa.utils.tensorflow.data_generator import RasaDataGenerator
from rasa.utils.tensorflow.models import RasaModel

from bot.runner import replacements
from bot.runner.replacements import Replacement

_rasa_fit = RasaModel.fit
_rasa_token_fingerprint = Token.fingerprint
_rasa_token_set = Token.set

_FINGERPRINT = "_cached_fingerprint"


def build_for_training(model: RasaModel, batches: RasaDataGenerator) -> None:
    """Creates the model's variables (one eager forward pass) and the optimizer's slots."""
    batch, _ = batches[0]
    model._training = True
    try:
        model.batch_loss(batch)
    finally:
        model._training = False
    model.optimizer.build(model.trainable_variables)
    model.reset_metrics()


def fit_traced_once(model: RasaModel, x: Any = None, *args: Any, **kwargs: Any) -> Any:
    """Keras's ``fit``, the model's variables built first so that its step is traced once."""
    if isinstance(x, RasaDataGenerator) and len(x) and not model.trainable_variables:
        build_for_training(model, x)
    return _rasa_fit(model, x, *args, **kwargs)


def cached_token_fingerprint(token: Token) -> str:
    """``Token.fingerprint``, computed once until the token's data changes."""
    fingerprint = token.__dict__.get(_FINGERPRINT)
    if fingerprint is None:
        fingerprint = token.__dict__[_FINGERPRINT] = _rasa_token_fingerprint(token)
    return fingerprint


def token_set(token: Token, prop: str, info: Any) -> None:
    """``Token.set``, forgetting the token's fingerprint."""
    token.__dict__.pop(_FINGERPRINT, None)
    _rasa_token_set(token, prop, info)


#: Each replaced method of Rasa's: its class, its name and what takes its place.
REPLACEMENTS: list[Replacement] = [
    (RasaModel, "fit", fit_traced_once),
    (Token, "fingerprint", cached_token_fingerprint),
    (Token, "set", token_set),
]


def install() -> None:
    """Put the speed-ups in place in this process (idempotent)."""
    replacements.install(REPLACEMENTS)
