"""Sign-in against the city's directory (LDAP / Active Directory, with ldap3; docs/design/sign-in.md).

The password is checked by binding as the user (never stored, never logged); role and districts come from the
user's groups at each login (``access.ldap.role_groups`` / ``district_groups``), so a user taken out of a group
loses those rights at their next login, and a session of a user whose entry is gone (or whose groups changed) is
refused at the next re-check. Every value put in a DN or a filter is escaped. Local users never touch the
directory: a local administrator signs in when the directory is down.
"""

from __future__ import annotations

import logging
import math
import ssl
import threading
from dataclasses import dataclass, field

from ldap3 import BASE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from camgrid.access.models import User, UserSession
from camgrid.access.service import USERNAME, Principal
from camgrid.auditing import Actor, AuditWriter, audited, write_first
from camgrid.config import LdapConfig
from camgrid.vocabulary import AuditAction, UserSource

log = logging.getLogger("camgrid.access.directory")
NO_PASSWORD = "!directory"  # a directory user's password_hash: no argon2 hash, so never a local login
ALL = "*"


class DirectoryDown(RuntimeError):
    """The directory cannot be reached or refuses the service account: no directory user can sign in now."""


@dataclass(frozen=True)
class DirectoryUser:
    """A user as the directory says at this moment: their entry and the rights their groups give."""

    username: str
    dn: str
    role: str
    districts: tuple[str, ...]  # () = all districts (a group mapped to "*")


def _norm(dn: str) -> str:
    return ",".join(part.strip() for part in dn.lower().split(","))


@dataclass
class Directory:
    config: LdapConfig
    _checked: dict[str, tuple[float, DirectoryUser | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _server(self) -> Server:
        tls = None
        if self.config.start_tls or self.config.url.startswith("ldaps://"):
            tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=self.config.ca_file or None)
        return Server(self.config.url, connect_timeout=self.config.timeout_s, tls=tls)

    def _bind(self, dn: str, password: str) -> Connection | None:
        """A bound connection, or None when the directory refuses these credentials; DirectoryDown when it
        cannot be reached. An empty password is never sent (LDAP would take it as an anonymous bind)."""
        if not dn or not password:
            return None
        conn = Connection(self._server(), user=dn, password=password, receive_timeout=math.ceil(self.config.timeout_s))
        try:
            conn.open()
            if self.config.start_tls and not self.config.url.startswith("ldaps://") and not conn.start_tls():
                raise DirectoryDown("the directory refused StartTLS")  # never bind in clear when TLS was asked
            if conn.bind():
                return conn
        except DirectoryDown:
            _close(conn)
            raise
        except LDAPException as exc:
            _close(conn)
            raise DirectoryDown(f"the directory cannot be reached ({type(exc).__name__})") from None
        conn.unbind()
        return None

    def _service(self) -> Connection | None:
        if not self.config.bind_dn:
            return None
        conn = self._bind(self.config.bind_dn, self.config.bind_password)
        if conn is None:
            raise DirectoryDown("the directory refuses camgrid's service account")
        return conn

    def _find(self, conn: Connection, username: str) -> str | None:
        """The DN of the one entry for ``username`` (None: none, or more than one)."""
        if self.config.user_dn_template:
            dn = self._template_dn(username)
            conn.search(dn, "(objectClass=*)", search_scope=BASE, attributes=[])
        else:
            flt = self.config.user_filter.replace("{username}", escape_filter_chars(username))
            conn.search(self.config.search_base, flt, search_scope=SUBTREE, attributes=[], size_limit=2)
        entries = [e.entry_dn for e in conn.entries]
        return entries[0] if len(entries) == 1 else None

    def _template_dn(self, username: str) -> str:
        return self.config.user_dn_template.replace("{username}", escape_rdn(username))

    def _rights(self, conn: Connection, username: str, dn: str) -> DirectoryUser | None:
        flt = self.config.group_filter.replace("{dn}", escape_filter_chars(dn))
        conn.search(self.config.group_base, flt, search_scope=SUBTREE, attributes=[])
        groups = {_norm(e.entry_dn) for e in conn.entries}
        role = next((str(r) for g, r in self.config.role_groups.items() if _norm(g) in groups), None)
        districts = [d for g, d in self.config.district_groups.items() if _norm(g) in groups]
        if role is None or not districts:
            log.warning("directory user %s has no camgrid role or district group: refused", username)
            return None
        scope = () if ALL in districts else tuple(sorted(set(districts)))
        return DirectoryUser(username, dn, role, scope)

    def authenticate(self, username: str, password: str) -> DirectoryUser | None:
        """The user and their rights when the directory accepts this password; None when it does not (or the user
        has no camgrid group); DirectoryDown when it cannot be asked."""
        if not USERNAME.match(username) or not password:
            return None
        service = self._service()
        try:
            if self.config.user_dn_template:
                dn: str | None = self._template_dn(username)
            elif service is not None:
                dn = self._find(service, username)
            else:
                raise DirectoryDown("access.ldap needs user_dn_template, or bind_dn to search users")
            if dn is None:
                return None
            conn = self._bind(dn, password)
            if conn is None:
                return None
            try:
                return self._rights(service or conn, username, dn)
            finally:
                conn.unbind()
        except LDAPException as exc:
            raise DirectoryDown(f"the directory failed ({type(exc).__name__})") from None
        finally:
            if service is not None:
                service.unbind()

    def lookup(self, username: str) -> DirectoryUser | None:
        """The user's entry and rights now, read with the service account (None: gone or no camgrid group)."""
        service = self._service()
        if service is None:
            raise DirectoryDown("no service account (access.ldap.bind_dn): directory users cannot be re-checked")
        try:
            dn = self._find(service, username)
            return None if dn is None else self._rights(service, username, dn)
        except LDAPException as exc:
            raise DirectoryDown(f"the directory failed ({type(exc).__name__})") from None
        finally:
            service.unbind()

    def confirms(self, who: Principal, now: float) -> bool:
        """False when the directory says this user is gone or now has other rights (their session ends); re-read at
        most every ``recheck_s``. While the directory cannot be asked, what it last said holds; without a service
        account it cannot be asked at all, and sessions hold until they expire (docs/design/sign-in.md)."""
        with self._lock:
            seen = self._checked.get(who.username)
        if seen is None or now - seen[0] >= self.config.recheck_s:
            if not self.config.bind_dn:
                return True
            try:
                found = self.lookup(who.username)
            except DirectoryDown as exc:
                log.warning("cannot re-check directory user %s: %s", who.username, exc)
                return seen is None or _same(seen[1], who)
            seen = (now, found)
            with self._lock:
                self._checked[who.username] = seen
        return _same(seen[1], who)

    def remember(self, found: DirectoryUser, now: float) -> None:
        """What the directory said at a login: the next re-check is ``recheck_s`` later."""
        with self._lock:
            self._checked[found.username] = (now, found)


def _close(conn: Connection) -> None:
    """Let go of a connection that may already be broken (a failed TLS handshake closes its socket)."""
    try:
        conn.unbind()
    except LDAPException:
        pass


def _same(found: DirectoryUser | None, who: Principal) -> bool:
    return found is not None and found.role == who.role and found.districts == who.districts


def _districts_text(districts: tuple[str, ...]) -> str:
    return ",".join(districts) if districts else ALL


@audited(AuditAction.DIRECTORY_SYNC)
def sync_user(*, session: Session, audit: AuditWriter, actor: Actor, found: DirectoryUser, now_ns: int) -> User | None:
    """The local row of a directory user who just proved their password, made or brought in line with their groups
    (a change of rights ends their other sessions and tokens). None when the name belongs to a local user: a
    local account is never taken over by the directory."""
    user = session.scalar(select(User).where(User.username == found.username))
    districts = _districts_text(found.districts)
    if user is not None and (user.source != UserSource.DIRECTORY or user.deleted_ns is not None):
        return None  # a local account, or a deleted one (its name is never given again)
    if user is not None and user.role == found.role and user.districts == districts:
        return user
    write_first(
        audit,
        actor,
        AuditAction.DIRECTORY_SYNC,
        details={
            "user": found.username,
            "role": [user.role if user else None, found.role],
            "districts": [user.districts if user else None, districts],
        },
    )
    if user is None:
        user = User(
            username=found.username,
            password_hash=NO_PASSWORD,
            role=found.role,
            districts=districts,
            source=UserSource.DIRECTORY,
            created_ns=now_ns,
        )
        session.add(user)
    else:
        user.role = found.role
        user.districts = districts
        session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    session.flush()
    return user
