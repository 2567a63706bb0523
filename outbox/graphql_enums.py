"""The outbox's fixed sets as GraphQL enums (imported by reports/ for the reporter's choice)."""

from __future__ import annotations

from typing import TypeAlias

from core.graphql import labelled_enum
from outbox import vocabulary

Language: TypeAlias = vocabulary.Language
labelled_enum(Language, "Language")
NotifyBy: TypeAlias = vocabulary.NotifyBy
labelled_enum(NotifyBy, "NotifyBy")
Channel: TypeAlias = vocabulary.Channel
labelled_enum(Channel, "OutboxChannel")
MessageStatus: TypeAlias = vocabulary.MessageStatus
labelled_enum(MessageStatus, "OutboxStatus")
EventType: TypeAlias = vocabulary.EventType
labelled_enum(EventType, "EventType")
