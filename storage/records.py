"""Typed rows: what the storage functions return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class InstanceRecord:
    id: int
    title: str
    plan_toml: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class MemberRecord:
    id: int
    instance_id: int
    member_key: str
    name: str
    roles: frozenset[str]
    locale: str | None


@dataclass(frozen=True)
class IdentityRecord:
    member_id: int
    platform: str
    user_id: str
    reachable: bool


@dataclass(frozen=True)
class AssignmentRecord:
    id: int
    instance_id: int
    task_id: str
    member_id: int
    status: str
    due_at: datetime
    assigned_at: datetime


@dataclass(frozen=True)
class FileRecord:
    id: int
    submission_id: int
    platform: str
    file_ref: str
    file_name: str | None
    mime_type: str | None
    size: int | None
    content: bytes | None  # rows from before the files folder; else None
    sha256: str | None = None  # our copy in the files folder (storage.files)


@dataclass(frozen=True)
class FileCopy:
    """A file a member sent, to be recorded: the platform's reference, and our copy in the
    files folder (``sha256``; None when it could not be fetched) or, as rows from before the
    files folder, its bytes."""

    platform: str
    file_ref: str
    file_name: str | None
    mime_type: str | None
    size: int | None
    sha256: str | None = None
    content: bytes | None = None


@dataclass(frozen=True)
class SubmissionRecord:
    id: int
    assignment_id: int
    version: int
    text: str | None
    submitted_at: datetime
    late: bool


@dataclass(frozen=True)
class ReviewRecord:
    id: int
    submission_id: int
    reviewer_id: int
    verdict: str
    comment: str | None
    reviewed_at: datetime


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    dedupe_key: str | None
    instance_id: int | None
    platform: str
    chat_id: str
    payload: str
    created_at: datetime
    not_before: datetime | None
    attempts: int
    state: str


@dataclass(frozen=True)
class ConversationRecord:
    platform: str
    user_id: str
    state: str
    data: str
    updated_at: datetime


@dataclass(frozen=True)
class LedgerItemRecord:
    """One rectification item (整改台账 entry)."""

    id: int
    instance_id: int
    description: str
    source: str  # opinion / meeting / self-review
    category: str  # immediate / deadline / explain / escalate
    member_id: int | None
    department: str | None
    due_at: datetime | None
    status: str  # todo / in_progress / done
    created_at: datetime
    updated_at: datetime
    source_ref: str | None = None


@dataclass(frozen=True)
class EvidenceRecord:
    id: int
    item_id: int
    member_id: int | None
    text: str | None
    file_name: str | None
    mime_type: str | None
    content: bytes | None
    added_at: datetime
