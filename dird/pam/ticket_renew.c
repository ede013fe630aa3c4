/* Renewal of users' tickets while their login sessions are open, as winbind's `winbind refresh
 * tickets`: a thread of dird's own reads the session registry every RENEW_CHECK_SECONDS and,
 * for each live session with a ticket cache, renews its renewable ticket-granting ticket once
 * half of its lifetime has passed (krb5_get_renewed_creds), until the session ends or the renew
 * lifetime does.  The new cache keeps the other tickets that have not expired and replaces the
 * old one whole (a new file beside it, renamed over it), with its owner and mode.
 *
 * The user's file is read and replaced with the user's file system identity (setfsuid and
 * setfsgid, which Linux keeps per thread): dird never opens, creates or renames anything as
 * root in a directory users write to, and needs no capability to reach a file of theirs (its
 * systemd unit grants none but CAP_SETUID and CAP_SETGID for this).  The tickets are parsed and
 * renewed from root-only copies in run_dir. */
#include "ticket_renew.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ccache_file.h"
#include "log.h"
#include "names.h"
#include "sessions.h"
#include "threads.h"

#define RENEW_CHECK_SECONDS 5
#define NOGROUP 65534	/* the group while only reading: the owner's rights are enough */
#define MAX_ENDED 256	/* sessions whose renewals ended, remembered to say so once */

/* This thread's file system identity; false when the kernel did not take it. */
static bool fs_identity(uid_t uid, gid_t gid)
{
	setfsgid(gid);
	setfsuid(uid);
	return (uid_t)setfsuid((uid_t)-1) == uid && (gid_t)setfsgid((gid_t)-1) == gid;
}

/* Root's own again.  A thread that cannot have it back must not go on as a user. */
static void as_root(void)
{
	if (!fs_identity(0, 0)) {
		log_error("cannot take root's file system identity back; stopping");
		abort();
	}
}

/* The user's file system identity, until as_root; false (root's kept, err set) without it. */
static bool as_user(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (fs_identity(uid, gid))
		return true;
	snprintf(err, errlen, "cannot take uid %u's file system identity", (unsigned)uid);
	as_root();
	return false;
}

/* Writes bytes as the new contents of f's path (as its owner, who must have the thread's file
 * system identity): a new file beside it, the old mode, renamed over it while it is still the
 * file that was read. */
static int replace_file(const char *path, const struct ccache_file *f, const struct buf *bytes,
			char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	if (dir_build_name(tmp, sizeof(tmp), "%s.XXXXXX", path) < 0) {
		snprintf(err, errlen, "%s: the name is too long", path);
		return -1;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	struct stat st;
	bool ok = write(fd, bytes->data, bytes->len) == (ssize_t)bytes->len &&
		  fchmod(fd, f->mode) == 0 && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok)
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
	else if (lstat(path, &st) < 0 || st.st_dev != f->dev || st.st_ino != f->ino)
		snprintf(err, errlen, "%s was removed or replaced meanwhile", path);
	else if (rename(tmp, path) < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else
		return 0;
	unlink(tmp);
	return -1;
}

/* Copies every ticket of `from` but the old TGT and the expired ones to `to`. */
static krb5_error_code copy_others(krb5_context ctx, krb5_ccache from, krb5_ccache to,
				   const krb5_creds *old_tgt)
{
	krb5_cc_cursor cursor;
	krb5_creds c;
	krb5_timestamp now = (krb5_timestamp)time(NULL);
	krb5_error_code rc = krb5_cc_start_seq_get(ctx, from, &cursor);
	while (!rc && (rc = krb5_cc_next_cred(ctx, from, &cursor, &c)) == 0) {
		bool tgt = krb5_principal_compare(ctx, c.server, old_tgt->server) &&
			   krb5_principal_compare(ctx, c.client, old_tgt->client);
		bool expired = !krb5_is_config_principal(ctx, c.server) && c.times.endtime <= now;
		if (!tgt && !expired)
			rc = krb5_cc_store_cred(ctx, to, &c);
		krb5_free_cred_contents(ctx, &c);
	}
	krb5_cc_end_seq_get(ctx, from, &cursor);
	return rc == KRB5_CC_END ? 0 : rc;
}

/* Renews tgt, read from `in` (a scratch copy of f, the file at path), and puts the new tickets
 * with the live others of `in` in the file's place, as its owner uid; *until: when they end. */
static enum renew_result renew_into(krb5_context ctx, krb5_ccache in, const krb5_creds *tgt,
				    const char *path, uid_t uid, const struct ccache_file *f,
				    const char *scratch_dir, long long *until, char *err, size_t errlen)
{
	krb5_ccache out = NULL;
	krb5_creds fresh;
	char out_path[PATH_MAX] = "";
	struct buf empty;
	struct ccache_file written;
	enum renew_result ret = RENEW_FAILED;
	buf_init(&empty, 0);
	memset(&written, 0, sizeof(written));
	krb5_error_code rc = krb5_get_renewed_creds(ctx, &fresh, tgt->client, in, NULL);
	if (rc) {
		const char *m = krb5_get_error_message(ctx, rc);
		snprintf(err, errlen, "renewing: %s", m);
		krb5_free_error_message(ctx, m);
		return RENEW_FAILED;
	}
	if (ccache_scratch(ctx, scratch_dir, &empty, &out, out_path, err, errlen) < 0)
		goto out;
	if ((rc = krb5_cc_initialize(ctx, out, fresh.client)) ||
	    (rc = krb5_cc_store_cred(ctx, out, &fresh)) || (rc = copy_others(ctx, in, out, tgt))) {
		const char *m = krb5_get_error_message(ctx, rc);
		snprintf(err, errlen, "writing the renewed tickets: %s", m);
		krb5_free_error_message(ctx, m);
		goto out;
	}
	krb5_cc_close(ctx, out);
	out = NULL;
	int ok = ccache_file_read(out_path, 0, &written, err, errlen);
	if (ok == 0 && as_user(uid, f->gid, err, errlen)) {
		ok = replace_file(path, f, &written.data, err, errlen);
		as_root();
	} else {
		ok = -1;
	}
	if (ok == 0) {
		*until = fresh.times.endtime;
		ret = RENEW_DONE;
	}
out:
	ccache_file_free(&written);
	krb5_free_cred_contents(ctx, &fresh);
	if (out)
		krb5_cc_close(ctx, out);
	if (out_path[0])
		unlink(out_path);
	return ret;
}

enum renew_result ticket_renew(const char *path, uid_t uid, const char *scratch_dir,
			       long long *until, char *err, size_t errlen)
{
	struct ccache_file f;
	krb5_context ctx = NULL;
	krb5_ccache in = NULL;
	krb5_creds tgt;
	bool have_tgt = false;
	char in_path[PATH_MAX] = "";
	enum renew_result ret = RENEW_FAILED;
	memset(&f, 0, sizeof(f));
	*until = 0;
	if (!as_user(uid, NOGROUP, err, errlen))
		goto out;
	int read = ccache_file_read(path, uid, &f, err, errlen);
	as_root();
	if (read < 0)
		goto out;
	krb5_error_code rc = krb5_init_context(&ctx);
	if (rc) {
		ctx = NULL;
		snprintf(err, errlen, "cannot set up Kerberos: error %ld", (long)rc);
		goto out;
	}
	if (ccache_scratch(ctx, scratch_dir, &f.data, &in, in_path, err, errlen) < 0)
		goto out;
	if ((rc = ccache_find_tgt(ctx, in, &tgt))) {
		snprintf(err, errlen, "no ticket-granting ticket in it");
		ret = RENEW_ENDED;
		goto out;
	}
	have_tgt = true;
	long long now = (long long)time(NULL), end = tgt.times.endtime;
	long long start = tgt.times.starttime ? tgt.times.starttime : tgt.times.authtime;
	*until = end;
	if (!(tgt.ticket_flags & TKT_FLG_RENEWABLE) || end <= now || end >= tgt.times.renew_till) {
		snprintf(err, errlen, "%s", !(tgt.ticket_flags & TKT_FLG_RENEWABLE) ?
			 "its tickets are not renewable" : end >= tgt.times.renew_till ?
			 "renewed as far as their renew lifetime allows" : "its tickets have expired");
		ret = RENEW_ENDED;
	} else if (now < start + (end - start) / 2) {
		ret = RENEW_NOT_DUE;
	} else {
		ret = renew_into(ctx, in, &tgt, path, uid, &f, scratch_dir, until, err, errlen);
	}
out:
	ccache_file_free(&f);
	if (have_tgt)
		krb5_free_cred_contents(ctx, &tgt);
	if (in)
		krb5_cc_close(ctx, in);
	if (in_path[0])
		unlink(in_path);
	if (ctx)
		krb5_free_context(ctx);
	return ret;
}

/* The thread's memory of sessions whose renewals have ended (said once each). */
struct renewals {
	char run_dir[PATH_MAX];
	char ccache_dir[PATH_MAX];
	char ended[MAX_ENDED][37];
	size_t n_ended, next_ended;
};

static bool said_ended(struct renewals *r, const char *id)
{
	for (size_t i = 0; i < r->n_ended; i++)
		if (!strcmp(r->ended[i], id))
			return true;
	snprintf(r->ended[r->next_ended], sizeof(r->ended[0]), "%s", id);
	r->next_ended = (r->next_ended + 1) % MAX_ENDED;
	if (r->n_ended < MAX_ENDED)
		r->n_ended++;
	return false;
}

static int renew_session(const struct dir_session *s, void *arg)
{
	struct renewals *r = arg;
	char prefix[PATH_MAX + 32], err[512], when[32] = "?";
	long long until;
	if (!s->ccache[0])
		return 0;
	/* Only the caches pam_dir makes: <krb5_ccache_dir>/krb5cc_<uid>_XXXXXX */
	int n = snprintf(prefix, sizeof(prefix), "%s/krb5cc_%u_", r->ccache_dir, (unsigned)s->uid);
	if (n < 0 || (size_t)n >= sizeof(prefix) || strncmp(s->ccache, prefix, (size_t)n) ||
	    strchr(s->ccache + n, '/')) {
		if (!said_ended(r, s->id))
			log_warning("session %s of %s: its ticket cache %s is not one of pam_dir's in "
				    "%s; not renewed", s->id, s->user, s->ccache, r->ccache_dir);
		return 0;
	}
	enum renew_result res = ticket_renew(s->ccache, s->uid, r->run_dir, &until, err, sizeof(err));
	time_t t = (time_t)until;
	struct tm tm;
	if (until > 0 && localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	switch (res) {
	case RENEW_DONE:
		log_info("renewed the tickets of %s (session %s): valid until %s", s->user, s->id, when);
		break;
	case RENEW_FAILED:
		log_warning("session %s of %s: renewing the tickets in %s failed: %s", s->id, s->user,
			    s->ccache, err);
		break;
	case RENEW_ENDED:
		if (!said_ended(r, s->id))
			log_info("session %s of %s: tickets no longer renewed (%s; valid until %s)",
				 s->id, s->user, err, when);
		break;
	case RENEW_NOT_DUE:
		break;
	}
	return 0;
}

static void *renew_thread(void *arg)
{
	struct dird *d = arg;
	static struct renewals r;
	for (;;) {
		sleep(RENEW_CHECK_SECONDS);
		pthread_mutex_lock(&d->lock);
		snprintf(r.run_dir, sizeof(r.run_dir), "%s", d->cfg.run_dir);
		snprintf(r.ccache_dir, sizeof(r.ccache_dir), "%s", d->cfg.krb5_ccache_dir);
		pthread_mutex_unlock(&d->lock);
		session_each(r.run_dir, renew_session, &r);
	}
	return NULL;
}

int renew_start(struct dird *d)
{
	return thread_start_detached(renew_thread, d);
}
