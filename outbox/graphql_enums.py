"""The outbox's fixed sets as GraphQL enums (imported by reports/ for the reporter's choice)."""

from __future__ import annotations

from core.graphql import labelled_enum
from outbox import vocabulary

Language = labelled_enum(vocabulary.Language, "Language")
NotifyBy = labelled_enum(vocabulary.NotifyBy, "NotifyBy")
Channel = labelled_enum(vocabulary.Channel, "OutboxChannel")
MessageStatus = labelled_enum(vocabulary.MessageStatus, "OutboxStatus")
EventType = labelled_enum(vocabulary.EventType, "EventType")
