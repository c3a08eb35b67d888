"""Every state a return can be in has words on the order's timeline (staff and brands read the same)."""

from orders.wording import RETURN_WORDS, return_words
from returns.models import ReturnState


def test_every_return_state_has_words_of_its_own():
    assert set(RETURN_WORDS) == set(ReturnState.values)
    for state in ReturnState:
        assert return_words(state.value, state.label) != f"Return {state.label.lower()}."
