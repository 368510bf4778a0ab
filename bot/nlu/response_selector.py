"""Rasa's ResponseSelector without the weight of the text's token-level features, which it
cannot use.

With no transformer layer (the selector's default), the selector reads each message at one
position only, the sentence-level features; the token-level ones still cost an input layer
of vocabulary × 512 weights that is multiplied, differentiated and updated whole at every
training step although its gradient is always zero. Rasa's model needs token positions to
exist, so this selector keeps them, each with one empty feature instead of the vocabulary:
the same answers, a fraction of the training time (bench/TRAINING.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import TEXT
from rasa.utils.tensorflow.constants import NUM_TRANSFORMER_LAYERS, SEQUENCE
from rasa.utils.tensorflow.model_data import FeatureArray, RasaModelData


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentenceResponseSelector(ResponseSelector):
    """A ResponseSelector whose text tokens carry no features when it has no transformer to
    read them (with one, it is Rasa's selector unchanged)."""

    def _create_model_data(self, *args: Any, **kwargs: Any) -> RasaModelData:
        model_data = super()._create_model_data(*args, **kwargs)
        if not reads_tokens(self.component_config[NUM_TRANSFORMER_LAYERS]):
            empty_token_level_text_features(model_data)
        return model_data


def reads_tokens(transformer_layers: int | dict[str, int]) -> bool:
    """Whether the text goes through a transformer (a number, or one per attribute)."""
    if isinstance(transformer_layers, dict):
        transformer_layers = transformer_layers.get(TEXT, 0)
    return transformer_layers > 0


def empty_token_level_text_features(model_data: RasaModelData) -> None:
    """Replaces the text's token-level features by one empty column per token: the token
    positions (and so every length and mask) stay, the vocabulary-wide input layer goes."""
    arrays = model_data.data.get(TEXT, {}).get(SEQUENCE)
    if not arrays:
        return
    model_data.data[TEXT][SEQUENCE] = [_one_empty_column(array) for array in arrays]
    sizes = model_data.sparse_feature_sizes.get(TEXT)
    if sizes and SEQUENCE in sizes:
        sizes[SEQUENCE] = [1 for array in arrays if array.is_sparse]


def _one_empty_column(array: FeatureArray) -> FeatureArray:
    empty = np.empty(len(array), dtype=object)
    for index, features in enumerate(array):
        tokens = features.shape[0]
        if array.is_sparse:
            empty[index] = scipy.sparse.coo_matrix((tokens, 1), dtype=np.float32)
        else:
            empty[index] = np.zeros((tokens, 1), dtype=np.float32)
    return FeatureArray(empty, number_of_dimensions=array.number_of_dimensions)
