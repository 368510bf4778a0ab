"""The words around a value that are not part of it: lead-ins, corrections, hedges.

Shared by the NLU (a message of values and such words only is an answer, ``inform``) and by the
form validation (what is left of a message once its values are taken out).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[\w'’-]+")


def words_of(text: str) -> list[str]:
    """Lower-case words, apostrophes and hyphens kept inside them ("c'est", "e-mail")."""
    return [word.lower() for word in _WORD.findall(text)]


# Words that introduce or correct a value without being one ("non pardon c'est 87654321",
# "client 87654321", "le nom c'est Martin"). Only these, in any number, make a part empty.
FILLER_WORDS = frozenset(
    words_of(
        """
    non no nan pardon désolé desole désolée desolee sorry excusez excuse moi erreur oups
    en fait plutôt plutot finalement je me suis trompé trompe trompée trompee corrige
    correction c'est c’est cest c est ce n'est pas ça ca it's it is the that was wrong
    mon ma mes my le la les l' un une du de d' mail e-mail email courriel adresse address
    numéro numero num n° no. client number nom name signataire principal bail
    iban rib montant somme jour date day amount bon bonne
    voici voilà voila alors euh bon ok okay svp stp please merci thanks bien sûr sur
    je crois pense il me semble normalement si ne trompe sauf think guess
    """
    )
)
