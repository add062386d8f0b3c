"""Table definitions used by the repositories. Migrations create them; a test checks both agree.

Conventions every table follows: surrogate `id` keys (`Id`), times as `UTCDateTime`,
`*_search` columns holding text folded by `bot.text_search.fold` (SQLite's LIKE and lower()
fold ASCII only), and every privileged change written to `audit_log`.
"""

from __future__ import annotations

import sqlalchemy as sa

from storage.types import Id, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

units = sa.Table(
    "units",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_search", sa.String(200), nullable=False, index=True),
    sa.Column("parent_id", Id, sa.ForeignKey("units.id"), index=True),
    sa.Column("kind", sa.String(20), nullable=False),
)

#: Every (ancestor, descendant) pair of the unit tree, each unit its own ancestor at depth 0:
#: "everyone under this unit" is one indexed join, however deep the tree.
unit_closure = sa.Table(
    "unit_closure",
    metadata,
    sa.Column("ancestor_id", Id, sa.ForeignKey("units.id"), primary_key=True),
    sa.Column("descendant_id", Id, sa.ForeignKey("units.id"), primary_key=True, index=True),
    sa.Column("depth", sa.SmallInteger, nullable=False),
)

titles = sa.Table(
    "titles",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
)

grades = sa.Table(
    "grades",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
)

#: Professional titles (chức danh nghề nghiệp) of public employees (viên chức).
professional_titles = sa.Table(
    "professional_titles",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
)

ethnicities = sa.Table(
    "ethnicities",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("name_search", sa.String(100), nullable=False),
    # The name and the other names the group is known by, compacted (see code_lists).
    sa.Column("search_text", sa.String(600), nullable=False, server_default=""),
)

people = sa.Table(
    "people",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("full_name", sa.String(150), nullable=False),
    sa.Column("name_search", sa.String(150), nullable=False, index=True),
    sa.Column("unit_id", Id, sa.ForeignKey("units.id"), index=True),
    sa.Column("title_id", Id, sa.ForeignKey("titles.id")),
    # A position not in the list, as the cadre typed it (the unit head sees it to confirm).
    sa.Column("title_other", sa.String(100)),
    # A civil servant (công chức) has a grade (ngạch); a public employee (viên chức) a
    # professional title and its rank (hạng I-IV); cán bộ are elected or appointed.
    sa.Column("employment", sa.String(12)),
    sa.Column("grade_id", Id, sa.ForeignKey("grades.id")),
    sa.Column("professional_title_id", Id, sa.ForeignKey("professional_titles.id")),
    sa.Column("professional_rank", sa.SmallInteger),
    sa.Column("gender", sa.String(6)),
    sa.Column("birth_year", sa.SmallInteger),
    sa.Column("ethnicity_id", Id, sa.ForeignKey("ethnicities.id")),
    sa.Column("phone", sa.String(20), index=True),
    sa.Column("telegram_id", sa.BigInteger, unique=True),
    # The office's own code for the person (mã cán bộ): roster imports update by it.
    sa.Column("staff_code", sa.String(32), unique=True),
    sa.Column("source", sa.String(10), nullable=False),
    sa.Column("verified", sa.Boolean, nullable=False, default=False),
    sa.Column("verified_by", Id, sa.ForeignKey("people.id")),
    sa.Column("verified_at", UTCDateTime),
    sa.Column("source_pool", sa.Boolean, nullable=False, default=False),
    # A self-declared profile returned to its cadre: why (ReturnReason), and the note.
    sa.Column("returned_reason", sa.String(20)),
    sa.Column("returned_note", sa.String(300)),
    sa.Column("language", sa.String(2)),
    # Where a person on both Telegram and Zalo is told things (bot/channels.Channel); NULL: both.
    sa.Column("notify_via", sa.String(8)),
    sa.Column("consent_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("source IN ('roster', 'self')", name="source"),
    sa.CheckConstraint(
        "notify_via IS NULL OR notify_via IN ('telegram', 'zalo')", name="notify_via"
    ),
    sa.CheckConstraint("gender IS NULL OR gender IN ('male', 'female')", name="gender"),
    sa.CheckConstraint(
        "employment IS NULL OR employment IN ('can_bo', 'cong_chuc', 'vien_chuc')",
        name="employment",
    ),
    sa.CheckConstraint(
        "professional_rank IS NULL OR professional_rank BETWEEN 1 AND 4", name="professional_rank"
    ),
    # Everything coverage reports read of the roster: they scan this, not the table.
    sa.Index(
        "ix_people_roster",
        "unit_id",
        "grade_id",
        "title_id",
        "birth_year",
        "gender",
        "ethnicity_id",
        "source_pool",
        "source",
        "verified",
    ),
)

consents = sa.Table(
    "consents",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), nullable=False, index=True),
    sa.Column("notice_version", sa.String(16), nullable=False),
    sa.Column("given_at", UTCDateTime, nullable=False),
    sa.Column("withdrawn_at", UTCDateTime),
)

roles = sa.Table(
    "roles",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("unit_id", Id, sa.ForeignKey("units.id")),
    sa.Column("granted_by", sa.BigInteger),
    sa.Column("granted_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("role IN ('lecturer', 'unit_head', 'admin')", name="role"),
    sa.CheckConstraint("(role = 'unit_head') = (unit_id IS NOT NULL)", name="unit_scope"),
    sa.UniqueConstraint("person_id", "role", "unit_id"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
    # Indexed: the office's audit log finds what a person did from their account.
    sa.Column("actor_telegram_id", sa.BigInteger, index=True),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), index=True),
    sa.Column("details", sa.JSON, nullable=False, default=dict),
)

delivery_batches = sa.Table(
    "delivery_batches",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("created_by", sa.BigInteger),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    # Chosen by the requester so that a request repeated (after a crash) queues nothing twice.
    sa.Column("request_key", sa.String(80)),
    # An announcement's audience (bot/audience.py): its kind, the class or unit it named, that
    # class's or unit's name then, and the units a unit head's announcement was kept within.
    sa.Column("audience_kind", sa.String(20)),
    sa.Column("audience_ref", Id),
    sa.Column("audience_name", sa.String(200)),
    sa.Column("audience_within", sa.String(200)),
    # The sender's message that follows the delivery ("Đang gửi: x/y"), what it shows now,
    # and until when it is kept up to date (NULL once it shows the final report).
    sa.Column("progress_chat_id", sa.BigInteger),
    sa.Column("progress_message_id", sa.BigInteger),
    sa.Column("progress_shown", sa.String(20)),
    sa.Column("progress_until", UTCDateTime),
    sa.Index("ix_delivery_batches_request_key", "request_key", unique=True),
    sa.Index("ix_delivery_batches_progress_until", "progress_until"),
)

#: States of an outbox message; 'sending' is written just before the request goes out, so
#: after a crash those rows are exactly the ones whose fate is unknown.
OUTBOX_STATES = ("pending", "sending", "sent", "failed", "unreachable", "cancelled")

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("dedup_key", sa.String(200), nullable=False, unique=True),
    sa.Column("chat_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), index=True),
    sa.Column("batch_id", Id, sa.ForeignKey("delivery_batches.id")),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.String(200)),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("message_id", sa.BigInteger),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(
        "state IN ('pending', 'sending', 'sent', 'failed', 'unreachable', 'cancelled')",
        name="state",
    ),
    sa.Index("ix_outbox_state_due_at", "state", "due_at"),
    sa.Index("ix_outbox_batch_id_state", "batch_id", "state"),
)

unreachable_chats = sa.Table(
    "unreachable_chats",
    metadata,
    sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("since", UTCDateTime, nullable=False),
    sa.Column("reason", sa.String(60), nullable=False),
)

#: A dialogue in progress (sign-up, a profile edit, an announcement), one per person: its
#: step, path and typed draft, written at every step so a restart resumes it.
dialogues = sa.Table(
    "dialogues",
    metadata,
    sa.Column("telegram_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("dialogue", sa.String(40), nullable=False),
    sa.Column("step", sa.String(40), nullable=False),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False, index=True),
)

# --- the training plan and its classes ---------------------------------------------------------

#: The kinds of class (loại lớp) the plans set targets for; "all" is the plan's overall target.
CLASS_KINDS = ("update", "title", "grade", "theory", "thematic", "party")

#: The approved yearly plan (kế hoạch): only its classes count, and open for enrolment.
plans = sa.Table(
    "plans",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("year", sa.SmallInteger, nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("approved_on", sa.Date),
    sa.Column("approved_by", sa.String(200)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("status IN ('draft', 'approved')", name="status"),
    sa.CheckConstraint(
        "status = 'draft' OR (approved_on IS NOT NULL AND approved_by IS NOT NULL)",
        name="approval",
    ),
)

#: Targets (chỉ tiêu) of a plan: classes and learners, overall ("all") and per kind.
plan_targets = sa.Table(
    "plan_targets",
    metadata,
    sa.Column("plan_id", Id, sa.ForeignKey("plans.id"), primary_key=True),
    sa.Column("kind", sa.String(12), primary_key=True),
    sa.Column("classes", sa.Integer, nullable=False),
    sa.Column("learners", sa.Integer, nullable=False),
    sa.CheckConstraint("classes >= 0 AND learners >= 0", name="positive"),
)

#: The content and level of a course; its classes are instances. A completion stays valid
#: for `validity_months` (a refresher recurs), or for good when NULL (a grade course).
programmes = sa.Table(
    "programmes",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_search", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(12), nullable=False),
    sa.Column("validity_months", sa.SmallInteger),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

classes = sa.Table(
    "classes",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    # Name and code folded, for the catalog's search without diacritics.
    sa.Column("search_text", sa.String(240), nullable=False),
    sa.Column("programme_id", Id, sa.ForeignKey("programmes.id"), nullable=False, index=True),
    sa.Column("plan_id", Id, sa.ForeignKey("plans.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(12), nullable=False),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("location", sa.String(300)),
    # Shown only to enrolled learners.
    sa.Column("meeting_link", sa.String(500)),
    sa.Column("organiser", sa.String(200)),
    sa.Column("capacity", sa.Integer, nullable=False),
    # Seats taken and the last waitlist ticket, kept on the row so that taking a seat is one
    # conditional UPDATE: the database, not the process, guarantees no overbooking.
    sa.Column("enrolled_count", sa.Integer, nullable=False, default=0),
    sa.Column("waitlist_seq", sa.Integer, nullable=False, default=0),
    sa.Column("enrol_opens_at", UTCDateTime),
    sa.Column("enrol_deadline", UTCDateTime),
    sa.Column("status", sa.String(10), nullable=False),
    # The first start and last end of its sessions, kept with them: the catalog sorts by it.
    sa.Column("starts_at", UTCDateTime),
    sa.Column("ends_at", UTCDateTime),
    sa.Column("cancelled_reason", sa.String(300)),
    # Attendance rules: a check-in this many minutes after the start is late; a learner
    # completes by attending this share (percent) of the sessions.
    sa.Column("late_after", sa.SmallInteger, nullable=False, server_default="15"),
    sa.Column("completion_pct", sa.SmallInteger, nullable=False, server_default="80"),
    # An enrolment waits for the learner's unit head to approve it (holding its seat).
    sa.Column("requires_approval", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_by", sa.BigInteger),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(
        "status IN ('planned', 'open', 'running', 'finished', 'cancelled')", name="status"
    ),
    sa.CheckConstraint("format IN ('on_site', 'online', 'blended')", name="format"),
    sa.CheckConstraint("capacity > 0", name="capacity"),
    sa.CheckConstraint("enrolled_count >= 0 AND enrolled_count <= capacity", name="seats"),
    sa.CheckConstraint("late_after BETWEEN 0 AND 240", name="late_after"),
    sa.CheckConstraint("completion_pct BETWEEN 1 AND 100", name="completion_pct"),
    sa.Index("ix_classes_status_starts_at", "status", "starts_at"),
)

#: Who a class is for: no row means everyone; otherwise anyone matching one of its targets,
#: written "unit:12" (that unit and its sub-units), "grade:3", "title:7" or "group:women".
class_audience = sa.Table(
    "class_audience",
    metadata,
    sa.Column("class_id", Id, sa.ForeignKey("classes.id"), primary_key=True),
    sa.Column("target", sa.String(40), primary_key=True),
)

class_lecturers = sa.Table(
    "class_lecturers",
    metadata,
    sa.Column("class_id", Id, sa.ForeignKey("classes.id"), primary_key=True),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), primary_key=True, index=True),
)

class_sessions = sa.Table(
    "class_sessions",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("class_id", Id, sa.ForeignKey("classes.id"), nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    sa.Column("topic", sa.String(300)),
    sa.Column("lecturer_id", Id, sa.ForeignKey("people.id"), index=True),
    sa.Column("room", sa.String(200)),
    sa.Column("link", sa.String(500)),
    sa.Column("status", sa.String(10), nullable=False),
    # Where it was before it last moved: the timetable says what changed.
    sa.Column("moved_from", UTCDateTime),
    # When its current time was set (added or moved): reminders due before it are merged
    # into the next one rather than sent late.
    sa.Column("timed_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("status IN ('scheduled', 'cancelled')", name="status"),
    sa.CheckConstraint("ends_at > starts_at", name="order"),
    sa.Index("ix_class_sessions_class_id_starts_at", "class_id", "starts_at"),
    sa.Index("ix_class_sessions_starts_at", "starts_at"),
)

#: Every change to a class or a session that its people must hear about (moved, cancelled,
#: switched online, class cancelled, promoted from the waitlist): written in the change's
#: transaction; the notifier (reminders) consumes the rows it has not handled yet.
class_events = sa.Table(
    "class_events",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("class_id", Id, sa.ForeignKey("classes.id"), nullable=False, index=True),
    sa.Column("session_id", Id, sa.ForeignKey("class_sessions.id")),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("before", sa.JSON, nullable=False),
    sa.Column("after", sa.JSON, nullable=False),
    sa.Column("actor_telegram_id", sa.BigInteger),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("handled_at", UTCDateTime),
    sa.Index("ix_class_events_handled_at", "handled_at"),
)

enrolments = sa.Table(
    "enrolments",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("class_id", Id, sa.ForeignKey("classes.id"), nullable=False),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), nullable=False, index=True),
    sa.Column("status", sa.String(10), nullable=False),
    # The waitlist ticket: first come, first served (the position is the rank among those
    # still waiting).
    sa.Column("ticket", sa.Integer),
    # The unit head who nominated the learner (cử đi học); such an enrolment needs no approval.
    sa.Column("nominated_by", Id, sa.ForeignKey("people.id")),
    # Who approved or rejected a pending enrolment, and when.
    sa.Column("decided_by", Id, sa.ForeignKey("people.id")),
    sa.Column("decided_at", UTCDateTime),
    # A pending enrolment gives its seat back then, unless decided before.
    sa.Column("expires_at", UTCDateTime),
    # Why a learner declined a nomination, or a unit head rejected an enrolment.
    sa.Column("reason", sa.String(300)),
    # When a nominated learner was told (one not yet on Telegram: when they first came).
    sa.Column("told_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(
        "status IN ('enrolled', 'waitlisted', 'pending', 'withdrawn', 'cancelled', "
        "'declined', 'rejected', 'expired')",
        name="status",
    ),
    sa.UniqueConstraint("class_id", "person_id"),
    sa.Index("ix_enrolments_class_id_status_ticket", "class_id", "status", "ticket"),
    sa.Index("ix_enrolments_status_expires_at", "status", "expires_at"),
)

#: A class's deep link for posters and Zalo groups: an opaque token, never the class's id;
#: a revoked token leads nowhere (a new one can be made).
class_links = sa.Table(
    "class_links",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("class_id", Id, sa.ForeignKey("classes.id"), nullable=False, index=True),
    sa.Column("token", sa.String(32), nullable=False, unique=True),
    sa.Column("created_by", sa.BigInteger),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_by", sa.BigInteger),
    sa.Column("revoked_at", UTCDateTime),
)

#: An administrator's leave for one person to take a class despite the duplicated-training
#: rule (audited).
enrolment_overrides = sa.Table(
    "enrolment_overrides",
    metadata,
    sa.Column("class_id", Id, sa.ForeignKey("classes.id"), primary_key=True),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), primary_key=True),
    sa.Column("granted_by", sa.BigInteger),
    sa.Column("granted_at", UTCDateTime, nullable=False),
)

#: Training a person has completed: from results (later) or the roster import of the past.
completions = sa.Table(
    "completions",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("programme_id", Id, sa.ForeignKey("programmes.id"), nullable=False),
    sa.Column("class_id", Id, sa.ForeignKey("classes.id")),
    # The class's name as it was, for a completion imported from before the bot.
    sa.Column("class_name", sa.String(200)),
    sa.Column("completed_on", sa.Date, nullable=False),
    sa.Column("source", sa.String(10), nullable=False),
    sa.CheckConstraint("source IN ('class', 'import')", name="source"),
    sa.Index("ix_completions_person_id_programme_id", "person_id", "programme_id"),
)

#: A cadre's catalog view (filters, search, page) behind the short key its buttons carry:
#: callback_data holds 64 bytes, and a view must survive a restart.
catalog_views = sa.Table(
    "catalog_views",
    metadata,
    sa.Column("key", sa.String(16), primary_key=True),
    sa.Column("telegram_id", sa.BigInteger, nullable=False),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False, index=True),
)

#: A person's reminder settings; no row means the defaults (bot/reminders.ReminderPrefs).
reminder_settings = sa.Table(
    "reminder_settings",
    metadata,
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), primary_key=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    # The chosen leads (bot/reminders.Lead values), comma-separated: "eve,1h".
    sa.Column("leads", sa.String(40), nullable=False),
    # Quiet hours as local minutes after midnight; equal means never quiet.
    sa.Column("quiet_from", sa.SmallInteger, nullable=False),
    sa.Column("quiet_until", sa.SmallInteger, nullable=False),
    # When the leads or the switch last changed (see ReminderPrefs.chosen_at).
    sa.Column("leads_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

#: Classes a person wants no reminders for.
reminder_mutes = sa.Table(
    "reminder_mutes",
    metadata,
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), primary_key=True),
    sa.Column("class_id", Id, sa.ForeignKey("classes.id"), primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
)

#: Every reminder decided, under the session's start time: a pass repeated after a restart
#: finds it here and decides nothing twice; a moved session has a new start, so new rows.
reminder_log = sa.Table(
    "reminder_log",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("session_id", Id, sa.ForeignKey("class_sessions.id"), nullable=False),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("lead", sa.String(4), nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.CheckConstraint("state IN ('sent', 'merged', 'skipped')", name="state"),
    sa.UniqueConstraint("session_id", "person_id", "lead", "starts_at"),
)

#: Messages held for their recipient's quiet hours; the notifier moves them to the outbox
#: (same dedup key) when the hours end.
held_messages = sa.Table(
    "held_messages",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("dedup_key", sa.String(200), nullable=False, unique=True),
    sa.Column("chat_id", sa.BigInteger, nullable=False),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), index=True),
    sa.Column("batch_id", Id, sa.ForeignKey("delivery_batches.id"), index=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("release_at", UTCDateTime, nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

#: A session's attendance as a whole: its self check-in (opened by a lecturer, with the secret
#: its rotating codes come from and the projector message they are shown on), the last roll
#: call saved, and when it closed (the unmarked became unexcused absences).
session_attendance = sa.Table(
    "session_attendance",
    metadata,
    sa.Column("session_id", Id, sa.ForeignKey("class_sessions.id"), primary_key=True),
    sa.Column("secret", sa.String(64)),
    sa.Column("opened_by", Id, sa.ForeignKey("people.id")),
    sa.Column("opened_at", UTCDateTime),
    # Check-in stopped early by its lecturer; otherwise it ends with the session.
    sa.Column("stopped_at", UTCDateTime),
    sa.Column("projector_chat_id", sa.BigInteger),
    sa.Column("projector_message_id", sa.BigInteger),
    sa.Column("saved_at", UTCDateTime),
    sa.Column("saved_by", Id, sa.ForeignKey("people.id")),
    sa.Column("closed_at", UTCDateTime, index=True),
)

#: One learner's mark at one session; the class is kept with it for per-class sums.
attendance = sa.Table(
    "attendance",
    metadata,
    sa.Column("session_id", Id, sa.ForeignKey("class_sessions.id"), primary_key=True),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), primary_key=True, index=True),
    sa.Column("class_id", Id, sa.ForeignKey("classes.id"), nullable=False),
    sa.Column("mark", sa.String(8), nullable=False),
    sa.Column("source", sa.String(10), nullable=False),
    # When the learner checked in themselves (None: marked by someone or by a rule).
    sa.Column("checked_in_at", UTCDateTime),
    sa.Column("marked_by", Id, sa.ForeignKey("people.id")),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.CheckConstraint("mark IN ('present', 'late', 'excused', 'absent')", name="mark"),
    sa.CheckConstraint(
        "source IN ('code', 'link', 'button', 'roll', 'correction', 'leave', 'close')",
        name="source",
    ),
    sa.Index("ix_attendance_class_id_person_id", "class_id", "person_id"),
)

#: A learner's request to be excused from a session, and who decided it.
leave_requests = sa.Table(
    "leave_requests",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("session_id", Id, sa.ForeignKey("class_sessions.id"), nullable=False),
    sa.Column("class_id", Id, sa.ForeignKey("classes.id"), nullable=False),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), nullable=False, index=True),
    sa.Column("reason", sa.String(300), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("asked_at", UTCDateTime, nullable=False),
    sa.Column("decided_by", Id, sa.ForeignKey("people.id")),
    sa.Column("decided_at", UTCDateTime),
    sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
    sa.UniqueConstraint("session_id", "person_id"),
    sa.Index("ix_leave_requests_status", "status"),
)

#: Warnings sent about a learner's attendance in a class: one per level, ever.
attendance_warnings = sa.Table(
    "attendance_warnings",
    metadata,
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), primary_key=True),
    sa.Column("class_id", Id, sa.ForeignKey("classes.id"), primary_key=True),
    sa.Column("level", sa.String(10), primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.CheckConstraint("level IN ('one_left', 'cannot')", name="level"),
)

#: A learner's result in a class; a completed one is also written to `completions`.
results = sa.Table(
    "results",
    metadata,
    sa.Column("class_id", Id, sa.ForeignKey("classes.id"), primary_key=True),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), primary_key=True, index=True),
    sa.Column("outcome", sa.String(14), nullable=False),
    # Sessions attended of those held, when the result was recorded.
    sa.Column("attended", sa.SmallInteger, nullable=False),
    sa.Column("total", sa.SmallInteger, nullable=False),
    # Completed below the attendance threshold by an administrator's decision (audited).
    sa.Column("override", sa.Boolean, nullable=False, default=False),
    sa.Column("recorded_by", sa.BigInteger),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(
        "outcome IN ('excellent', 'very_good', 'good', 'passed', 'not_completed')",
        name="outcome",
    ),
)

#: The marks (bot.attendance.Mark), one count column each in the tallies below.
MARKS = ("present", "late", "excused", "absent")

#: Marks per session, kept by triggers on `attendance` (migration 0011): reports sum these.
session_tallies = sa.Table(
    "session_tallies",
    metadata,
    sa.Column("session_id", Id, sa.ForeignKey("class_sessions.id"), primary_key=True),
    *(sa.Column(m, sa.Integer, nullable=False, server_default="0") for m in MARKS),
)

#: Marks per learner in a class, of its sessions still scheduled, kept by the same triggers.
learner_tallies = sa.Table(
    "learner_tallies",
    metadata,
    sa.Column("class_id", Id, sa.ForeignKey("classes.id"), primary_key=True),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), primary_key=True, index=True),
    *(sa.Column(m, sa.Integer, nullable=False, server_default="0") for m in MARKS),
)

#: Each Zalo user the bot has met, under the number the application knows them by (at or
#: above 2**53, bot/channels). `person_id`: joined, by a one-time code shown in Telegram, to a
#: person who uses Telegram too; the application then sees that person's Telegram id on Zalo.
zalo_accounts = sa.Table(
    "zalo_accounts",
    metadata,
    sa.Column("zalo_id", sa.String(64), primary_key=True),
    sa.Column("chat_id", sa.BigInteger, nullable=False, unique=True),
    sa.Column("person_id", Id, sa.ForeignKey("people.id"), unique=True),
    # The one-time code asked for to join `code_person_id`: its SHA-256, until when, tries.
    sa.Column("code_hash", sa.String(64)),
    sa.Column("code_person_id", Id, sa.ForeignKey("people.id")),
    sa.Column("code_expires_at", UTCDateTime),
    sa.Column("code_attempts", sa.SmallInteger, nullable=False, default=0, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
