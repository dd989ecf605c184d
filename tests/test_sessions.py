"""Sessions that survive a reload: the signed token and its revocation (sign-out, disable)."""

from __future__ import annotations

import time

from riskmap import service as s
from riskmap.service import CLI_ADMIN
from riskmap.service.sessions import (
    SessionToken,
    end_session,
    open_session,
    session_user,
    sign,
    unsign,
)

SECRET = b"test-secret-of-the-dashboard"


def test_a_signed_token_round_trips_and_refuses_tampering_and_expiry():
    token = SessionToken("demo.officer", "abc_DEF-123", int(time.time()) + 60)
    value = sign(token, SECRET)
    assert unsign(value, SECRET) == token
    assert unsign(value, b"another secret") is None
    user, sid, expires, mac = value.split(".")
    forged = sign(SessionToken("demo.admin", sid, int(expires)), b"guess")
    assert unsign(".".join([forged.split(".")[0], sid, expires, mac]), SECRET) is None
    assert unsign(".".join([user, sid, str(int(expires) + 3600), mac]), SECRET) is None
    assert unsign(value, SECRET, now=time.time() + 120) is None  # expired
    assert unsign("", SECRET) is None and unsign("a.b", SECRET) is None


def test_a_session_is_accepted_until_sign_out(ui_db):
    with ui_db.service() as svc:
        token = open_session(svc, "demo.officer")
        value = sign(token, SECRET)
        user, sid = session_user(svc, value, SECRET)
        assert (user.username, user.role, sid) == ("demo.officer", "officer", token.sid)
        # Another user's name on this session is refused, even correctly signed.
        assert (
            session_user(
                svc, sign(SessionToken("demo.admin", token.sid, token.expires), SECRET), SECRET
            )
            is None
        )
        end_session(svc, "demo.officer", token.sid)
        assert session_user(svc, value, SECRET) is None
        trail = s.audit_trail(svc, CLI_ADMIN, entity="session", entity_id=token.sid)
    assert list(trail["action"]) == ["session.start", "session.end"]
    assert set(trail["actor"]) == {"demo.officer"}


def test_disabling_the_account_revokes_its_sessions(ui_db):
    with ui_db.service() as svc:
        value = sign(open_session(svc, "demo.manager"), SECRET)
        assert session_user(svc, value, SECRET) is not None
        s.disable_user(svc, CLI_ADMIN, "demo.manager")
        assert session_user(svc, value, SECRET) is None
        s.enable_user(svc, CLI_ADMIN, "demo.manager")  # enabled again: still revoked
        assert session_user(svc, value, SECRET) is None
        assert session_user(svc, sign(open_session(svc, "demo.manager"), SECRET), SECRET)
