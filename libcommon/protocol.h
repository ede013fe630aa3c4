/* The dird socket protocol.  This header is its only description.
 *
 * Transport: a SOCK_STREAM Unix socket, `<run_dir>/dird.sock`, mode 0666.  One request per
 * connection, and one reply, which the client reads and then closes; a hint (below) is a request
 * whose client closes without reading it.  Every message is a header and a body:
 *
 *     u32 magic    DIR_PROTO_MAGIC
 *     u32 code     request: enum dir_op;  reply: enum dir_status
 *     u32 length   body bytes that follow, at most DIR_MAX_REQUEST / DIR_MAX_REPLY
 *     body         marshalled with libcommon/buf.h (host-order u32/u64, strings as
 *                  u32 length + bytes + NUL)
 *
 * Requests and their bodies:
 *     DIR_OP_GETPWNAM   str name            -> OK + user record | NOTFOUND
 *     DIR_OP_GETPWUID   u32 uid             -> OK + user record | NOTFOUND
 *     DIR_OP_GETGRNAM   str name            -> OK + group record | NOTFOUND
 *     DIR_OP_GETGRGID   u32 gid             -> OK + group record | NOTFOUND
 *     DIR_OP_SSH_KEYS   str name            -> OK + u32 n, n x str key | NOTFOUND
 *         a user's SSH public keys (authorized_keys lines, checked when read from the
 *         directory), answered as a GETPWNAM would be: from the cache (a stale entry while
 *         the directory is offline), asking the directory on a miss; any caller may ask
 *         (sshd runs dirctl ssh-keys as AuthorizedKeysCommandUser, nobody)
 *     DIR_OP_STATUS     (empty)             -> OK + status body (below)
 *     DIR_OP_REFRESH    (empty, or u32 flags: DIR_REFRESH_ACCEPT_SHRINK)  root only
 *                                           -> OK (a full refresh has started or is running)
 *     DIR_OP_FLUSH      (empty)  root only  -> OK (cache emptied, readers told, refill started)
 *     DIR_OP_EXPIRE     u32 kind (0 user, 1 group), u32 by_id, then u32 id or str name  root only
 *                                           -> OK (asked of the directory at its next lookup),
 *                                              NOTFOUND (not cached)
 *     DIR_OP_LOG_LEVEL  u32 level (enum dir_log_level)  root only
 *                                           -> OK (dird logs at that level until a reload or restart)
 *
 * A hint, the one message that gets no answer: libnss_dir, answering from the index an entry due
 * for a refresh (entry_ttl), sends the GETPWNAM, GETPWUID, GETGRNAM or GETGRGID that would look
 * it up, at most once a second per process, and closes without waiting for the reply
 * (dir_client_send: it connects only if dird has room at once, and never blocks).  dird takes it
 * as that lookup: the directory is asked when a domain can be (and the caller's rate allows), and
 * the cache and the index refreshed; the reply it writes to the closed connection is dropped.
 *
 * User and group records are encoded by cache/record_codec.c, the same bytes the NSS index
 * stores.  The status body is:
 *     u32 pid, u32 refreshing, u32 refresh_progress (entries fetched so far),
 *     u64 last_refresh (unix time, 0 = never), u64 refresh_count,
 *     u32 users, u32 groups, u32 n_domains, then per domain:
 *         str name, u32 state (enum dir_domain_state), u64 since (unix time of the last
 *         change of state, 0 = never contacted), str server (uri that answered last, may be
 *         empty), str last_error (may be empty), u32 duplicates (entries the last refresh
 *         dropped because another had their name or id), u32 clock_known (1: an AD DC's
 *         clock was read at the last refresh), u64 clock_offset (seconds the DC is ahead of
 *         us, two's complement; dirctl warns beyond DIR_CLOCK_WARN_SECONDS), u32 refused
 *         (entries the last refresh refused, each logged: an id below min_id, a user's primary
 *         gid included, or a local account's or group's id, or a name unfit for home_template;
 *         and the entries a change stream refused since for a malformed server id),
 *         u32 skipped_members (member DNs that are no user or group of the domain: outside
 *         user_base and group_base, another kind of entry, or no entry; counted by the last
 *         refresh and by the group lookups since), str changes (how changes reach the cache:
 *         "RFC 4533 sync", "usn poll": AD's
 *         changes read every sync_interval, or "full refresh"), str changes_state (what the stream does now; may
 *         be empty), u64 last_change (unix time the stream applied its last change, 0 = none),
 *         u64 in_sync_until (unix time; 0 = not in sync), u32 full_syncs (times the stream read
 *         everything since dird started: no stored position, or one the server refused)
 *     then u64 shrink_held_at (unix time a refresh that would have dropped most of the cache
 *     was kept out; 0 = none since the last one applied), u32 shrink_users, u32 shrink_groups
 *     (what it found)
 *
 * PAM requests go to a second socket, `<run_dir>/pam.sock`, mode 0600 and served to uid 0 only
 * (SO_PEERCRED), because they carry passwords; the lookup socket refuses them with DENIED:
 *     DIR_OP_PAM_AUTH     str user, str service, str rhost, str password
 *                                       -> OK + pam body
 *     DIR_OP_PAM_ACCOUNT  str user, str service, str rhost
 *                                       -> OK + pam body
 *     DIR_OP_PAM_CHAUTHTOK str user, str service, str rhost, str old password, str new password
 *                                       -> OK + pam body
 *         an empty new password only asks whether a change would be allowed with this old one
 * The pam body is u32 result (enum dir_pam_result), str message (for the user; may be empty),
 * u32 n, n bytes: the user's Kerberos tickets as the contents of a FILE ticket cache (auth = krb5,
 * result OK of an AUTH, or of a CHAUTHTOK that changed the password; otherwise n = 0), for
 * pam_dir to store as the user's cache at login.  An AUTH answered DIR_PAM_CHANGE_FIRST is
 * followed, within the same login, by a CHAUTHTOK with that password and a new one: its OK is
 * the login's.
 * An empty password is DIR_PAM_DENIED without asking the directory.  A user the directory does
 * not have, or one with a local name, is DIR_PAM_UNKNOWN so the stack goes on to pam_unix.
 *
 * A lookup the cache cannot answer while every domain is offline gets UNAVAIL at once.
 * A reply's status is UNAVAIL when the directory could not be asked, BADREQ for a malformed
 * request and DENIED when the caller (SO_PEERCRED) may not use the operation.  A client never
 * waits longer than its own deadline (a full listen queue included: it connects again until
 * then).  dird never blocks on a client: it reads requests and writes replies without
 * blocking, and drops a connection whose whole request is not in within
 * DIR_CLIENT_IO_TIMEOUT_MS of connecting, or whose whole reply is not read within
 * DIR_CLIENT_IO_TIMEOUT_MS of its being ready.
 *
 * A third socket, with dird.conf's userdb_socket (off by default; /run/systemd/userdb/dird on
 * a systemd host), mode 0666, speaks another protocol: systemd's io.systemd.UserDatabase over
 * varlink (systemd's docs/USER_GROUP_API.md), JSON messages each ending with a NUL, several
 * calls one after the other on a connection.  The service name is the socket's file name.
 * dird/sockets/userdb.c answers GetUserRecord, GetGroupRecord and GetMemberships from the cache
 * (userdb_json.h lists the record fields; an AD SID is "dirObjectSid"), with the interface's
 * errors NoRecordFound, BadService, ConflictingRecordFound, ServiceNotAvailable (/etc/passwd or
 * /etc/group unreadable), EnumerationNotSupported (enumerations, unless userdb_enumerate) and
 * varlink's MethodNotFound, InvalidParameter (filters such as uidMin included), ExpectedMore.
 * Replies that may be several stream with "continues", a batch at a time as the client reads.
 * A message over DIR_MAX_REQUEST bytes or that is not a varlink call closes the connection; a
 * call must be in within DIR_CLIENT_IO_TIMEOUT_MS of connecting or of the last reply, a single
 * reply read within DIR_CLIENT_IO_TIMEOUT_MS, and a stream must make progress every 10 s. */
#ifndef DIR_PROTOCOL_H
#define DIR_PROTOCOL_H

#define DIR_PROTO_MAGIC 0x31524944u /* "DIR1" */
#define DIR_SOCKET_NAME "dird.sock"
#define DIR_PAM_SOCKET_NAME "pam.sock"
#define DIR_MAX_PASSWORD 1024u
#define DIR_MAX_REQUEST 4096u
#define DIR_MAX_REPLY (16u << 20)
#define DIR_MAX_NAME 255u
#define DIR_CLIENT_IO_TIMEOUT_MS 1000

enum dir_op {
	DIR_OP_GETPWNAM = 1,
	DIR_OP_GETPWUID = 2,
	DIR_OP_GETGRNAM = 3,
	DIR_OP_GETGRGID = 4,
	DIR_OP_SSH_KEYS = 5,
	DIR_OP_STATUS = 16,
	DIR_OP_REFRESH = 17,
	DIR_OP_FLUSH = 18,
	DIR_OP_LOG_LEVEL = 19,
	DIR_OP_EXPIRE = 20,
	DIR_OP_PAM_AUTH = 32,
	DIR_OP_PAM_ACCOUNT = 33,
	DIR_OP_PAM_CHAUTHTOK = 34,
};

/* DIR_OP_REFRESH's flags: let this refresh replace the cache even when it would drop most of it. */
#define DIR_REFRESH_ACCEPT_SHRINK 1u

/* Kerberos refuses clocks further apart than DIR_CLOCK_SKEW_SECONDS (MIT's and AD's default);
 * dird logs and dirctl warns from DIR_CLOCK_WARN_SECONDS on, before logins start failing. */
#define DIR_CLOCK_WARN_SECONDS 180
#define DIR_CLOCK_SKEW_SECONDS 300

enum dir_pam_result {
	DIR_PAM_OK = 0,
	DIR_PAM_UNKNOWN = 1,	  /* not a directory user: let the next module decide */
	DIR_PAM_DENIED = 2,	  /* wrong or empty password */
	DIR_PAM_UNAVAIL = 3,	  /* the directory could not be asked */
	DIR_PAM_NEW_AUTHTOK = 4,  /* the password is right but must be changed now */
	DIR_PAM_EXPIRED = 5,	  /* the account has expired */
	DIR_PAM_DISABLED = 6,	  /* disabled or locked by the directory */
	DIR_PAM_NOT_ALLOWED = 7,  /* access_groups / access_filter leave the user out */
	/* A KDC says the password has expired, and it is proven only by tickets for a new one
	 * verified with the host keytab: a change comes first, and only it can log in. */
	DIR_PAM_CHANGE_FIRST = 8,
};

enum dir_domain_state {
	DIR_DOMAIN_UNKNOWN = 0, /* not contacted yet */
	DIR_DOMAIN_ONLINE = 1,
	DIR_DOMAIN_OFFLINE = 2,
};

enum dir_status {
	DIR_OK = 0,
	DIR_NOTFOUND = 1,
	DIR_UNAVAIL = 2,
	DIR_BADREQ = 3,
	DIR_DENIED = 4,
};

#endif
