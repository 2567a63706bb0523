"""Fixed sets whose members carry their Vietnamese and English names: one definition per
concept (a state, an action, a reason), used by every message, label and GraphQL enum."""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """A string enum whose members carry a Vietnamese and an English label."""

    label_vi: str
    label_en: str

    # The labels' defaults only let a type checker read a lookup by value (``Action("ACCEPT")``)
    # for what it is; every member declares both (tests/test_wording.py checks).
    def __new__(cls, value: str, label_vi: str = "", label_en: str = "") -> Labelled:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label_vi = label_vi
        member.label_en = label_en
        return member

    def label(self, lang: str = "vi") -> str:
        return self.label_en if lang == "en" else self.label_vi

    @classmethod
    def graphql_description(cls, member: Labelled) -> str:
        """``Vietnamese — English``: enum values documented in both languages in the SDL."""
        return f"{member.label_vi} — {member.label_en}"
