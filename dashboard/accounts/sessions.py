"""Django's database sessions (SESSION_ENGINE), read with a precompiled query: every
request reads its session, and building that query cost more than running it."""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from dashboard.ops.precompiled import Precompiled

# Real keys are 32 lowercase letters and digits: no session has this one.
_BY_KEY = Precompiled(
    Session, lambda key: Session.objects.filter(session_key=key), key="stand-in-session-key"
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        # As Django's, but the expiry is compared here rather than in the SQL (a date does
        # not pass through the compiled query unchanged on every database).
        session = _BY_KEY.first(key=self.session_key) if self.session_key else None
        if session is not None and session.expire_date > timezone.now():
            return session
        self._session_key = None
        return None
