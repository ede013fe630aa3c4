/* dird: keeps the directory's users and groups in the cache and answers cache misses. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <nss.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ad_poll.h"
#include "clients.h"
#include "dird.h"
#include "domain.h"
#include "fileutil.h"
#include "local_watch.h"
#include "log.h"
#include "notify.h"
#include "pam_request.h"
#include "protocol.h"
#include "publish.h"
#include "reclaim.h"
#include "refresh.h"
#include "sync_keep.h"
#include "sync_stream.h"
#include "server.h"
#include "ticket_renew.h"
#include "userdb.h"
#include "worker.h"

/* How long inserted cache misses wait before the index is rewritten: several misses in a row
 * (an `ls -l` of a directory) cost one rewrite. */
#define PUBLISH_DELAY_MS 200

/* Whether `list` (comma-separated) names step. */
static bool names_step(const char *list, const char *step)
{
	size_t n = strlen(step);
	for (const char *p = list; p && *p; p += strcspn(p, ","), p += *p == ',')
		if (!strncmp(p, step, n) && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

void test_hook(const char *step)
{
	const char *pause = secure_getenv("DIRD_TEST_PAUSE_AT");
	if (names_step(secure_getenv("DIRD_TEST_STOP_AT"), step))
		raise(SIGSTOP);
	if (pause && !strcmp(pause, step)) {
		const char *secs = secure_getenv("DIRD_TEST_PAUSE_SECONDS");
		unsigned n = secs ? (unsigned)atoi(secs) : 1;
		log_info("test hook: pausing %u s at %s", n, step);
		sleep(n);
	}
}

long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mark_dirty_locked(struct dird *d)
{
	publish_whole_locked(d);
	wake_publisher_locked(d);
}

void wake_publisher_locked(struct dird *d)
{
	uint64_t one = 1;
	if (!d->dirty)
		d->dirty_since_ms = now_ms();
	d->dirty = true;
	if (write(d->wake_fd, &one, sizeof(one)) < 0) {
		/* The counter is already non-zero: the main loop will wake anyway. */
	}
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: dird [-f] [-c FILE]\n"
		   "  -f, --foreground  stay in the foreground and log to stderr\n"
		   "  -c, --config FILE read FILE instead of $DIR_CONF or " DIR_DEFAULT_CONF "\n"
		   "  -h, --help        show this help\n"
		   "  -V, --version     dird's version\n");
}

/* dird must never ask libnss_dir (which would ask dird): resolve accounts from files only. */
static void bypass_own_nss_module(void)
{
	__nss_configure_lookup("passwd", "files");
	__nss_configure_lookup("group", "files");
	__nss_configure_lookup("initgroups", "files");
}

/* One dird per run_dir: a lock on a root-only file nobody else can open. */
static int take_instance_lock(const char *run_dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/dird.lock", run_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		log_error("%s: %s", path, errno == EWOULDBLOCK ? "another dird is running" :
			  strerror(errno));
		return -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, pid, (size_t)n) != n)
		log_warning("cannot write the pid to %s", path);
	return fd;
}

static int load_config(const char *path, struct dir_config *cfg)
{
	char err[1024];
	if (dir_config_load(path, cfg, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -1;
	}
	if (dir_config_check_usable(cfg, err, sizeof(err)) < 0) {
		log_error("%s", err);
		dir_config_free(cfg);
		return -1;
	}
	return 0;
}

static int setup_state(struct dird *d)
{
	d->domains = calloc(d->cfg.n_domains, sizeof(*d->domains));
	d->conns = calloc(d->cfg.n_domains, sizeof(*d->conns));
	if (!d->negative)
		d->negative = calloc(1, sizeof(*d->negative));
	return d->domains && d->conns && d->negative ? 0 : -1;
}

static void close_conns(struct dird *d)
{
	for (size_t i = 0; i < d->cfg.n_domains; i++)
		ldap_conn_close(&d->conns[i]);
}

/* SIGHUP: a new configuration, applied when no other thread reads the running one (no
 * refresh, probe or directory query under way).  False when it is refused. */
static bool reload(struct dird *d)
{
	struct dir_config cfg;
	if (load_config(d->cfg.path, &cfg) < 0) {
		log_error("reload failed; keeping the running configuration");
		return false;
	}
	/* What a stream stored of a domain served as before stays: its stream resumes. */
	sync_keep_reload(d, &cfg);
	if (strcmp(cfg.cache_dir, d->cfg.cache_dir) || strcmp(cfg.run_dir, d->cfg.run_dir) ||
	    !!cfg.userdb_socket != !!d->cfg.userdb_socket ||
	    (cfg.userdb_socket && strcmp(cfg.userdb_socket, d->cfg.userdb_socket)))
		log_warning("cache_dir, run_dir and userdb_socket changes take effect at the next start");
	/* The running paths stay: readers and the sockets are already there. */
	free(cfg.cache_dir);
	free(cfg.run_dir);
	free(cfg.userdb_socket);
	cfg.cache_dir = d->cfg.cache_dir;
	cfg.run_dir = d->cfg.run_dir;
	cfg.userdb_socket = d->cfg.userdb_socket;
	d->cfg.cache_dir = d->cfg.run_dir = d->cfg.userdb_socket = NULL;
	close_conns(d);
	/* no stream sends them again, nor does a refresh run when every domain streams */
	reclaim_ask_all_locked(d);
	for (size_t i = 0; i < d->cfg.n_domains; i++) /* the domain's state goes with them */
		d->refresh_after_reload |= d->domains[i].reclaim_behind;
	free(d->domains);
	free(d->conns);
	negcache_clear(d->negative);
	dir_config_free(&d->cfg);
	d->cfg = cfg;
	if (setup_state(d) < 0) {
		log_error("out of memory");
		exit(1);
	}
	log_set_level(d->cfg.log_level);
	log_info("configuration reloaded");
	return true;
}

static int next_timeout(struct dird *d)
{
	long long t = 1000;
	if (d->dirty) {
		long long left = d->dirty_since_ms + PUBLISH_DELAY_MS - now_ms();
		t = left < 0 ? 0 : left;
	}
	return (int)t;
}

/* A pending reload waits for the threads that read the configuration: refreshes, probes and
 * PAM requests run to their end, and the worker takes no new miss until it is applied (the
 * misses wait in the queue), so a stream of misses cannot put it off. */
static void reload_when_idle_locked(struct dird *d)
{
	d->streams_stop = d->reload_pending;
	/* A refresh reading a slow or endless server would hold the reload off for as long. */
	if (d->reload_pending && d->refreshing)
		atomic_store(&d->refresh_stop, true);
	d->worker_hold = d->reload_pending && !d->refreshing && !d->probes_running &&
			 !d->pam_running && !d->streams_running && !d->polling;
	if (d->worker_hold && !d->worker_active) {
		d->reload_pending = false;
		d->worker_hold = false;
		bool reloaded = reload(d);
		sync_start_locked(d);
		if (reloaded)
			refresh_due_locked(d);
		/* one stopped or asked for meanwhile, unless the reload's is running */
		if (d->refresh_after_reload && !d->refreshing)
			refresh_start_locked(d);
		d->refresh_after_reload = false;
		pam_start_parked_locked(d);
	}
	if (!d->worker_hold)
		pthread_cond_signal(&d->work_cond);
}

/* Publishes what db holds beyond the index.  When that fails (cache_dir full, say) the next try
 * waits 1 s, then twice as long each time up to a minute, instead of the main loop trying again
 * at once, thousands of times a second. */
static void publish_or_wait_locked(struct dird *d)
{
	if (publish_locked(d, false) == 0) {
		d->publish_retry_ms = 0;
		return;
	}
	d->publish_retry_ms = d->publish_retry_ms ? d->publish_retry_ms * 2 : 1000;
	if (d->publish_retry_ms > 60000)
		d->publish_retry_ms = 60000;
	d->dirty_since_ms = now_ms() + d->publish_retry_ms - PUBLISH_DELAY_MS;
}

static void on_tick(struct dird *d)
{
	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	if (d->dirty && now_ms() - d->dirty_since_ms >= PUBLISH_DELAY_MS)
		publish_or_wait_locked(d);
	publish_tick_locked(d);
	domain_tick_locked(d);
	local_watch_tick_locked(d);
	reload_when_idle_locked(d);
	/* A pending reload starts the refresh itself, on the new configuration. */
	if (d->cfg.enumerate && !d->refreshing && !d->reload_pending &&
	    time(NULL) >= d->next_refresh) {
		/* Change streams in sync keep the cache whole: no full refresh is needed, unless
		 * one failed (asked for what no stream sends: a reclaim left behind by a domain
		 * offline, say): it is tried again until it is done. */
		if (sync_all_in_sync_locked(d) && !d->retry_delay)
			d->next_refresh = time(NULL) + (time_t)d->cfg.refresh_interval;
		else
			refresh_start_locked(d);
	}
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
}

/* Blocked first of all, so only the signalfd sees them: a SIGHUP while dird starts is a
 * reload once it serves (not the default action, death), and no thread takes one. */
static void block_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGHUP);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
}

/* The command line: -1 to go on, or the exit status when dird is not to run (help, bad usage). */
static int parse_args(int argc, char **argv, bool *foreground, const char **conf)
{
	static const struct option opts[] = { { "foreground", no_argument, NULL, 'f' },
					      { "config", required_argument, NULL, 'c' },
					      { "help", no_argument, NULL, 'h' },
					      { "version", no_argument, NULL, 'V' },
					      { NULL, 0, NULL, 0 } };
	int o;
	while ((o = getopt_long(argc, argv, "fc:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'f': *foreground = true; break;
		case 'c': *conf = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("dird %s\n", DIR_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* The main loop, until a signal to stop or a failed poll: the listening sockets, their clients,
 * the replies the worker and the PAM threads hand back, signals and the timers (on_tick). */
static void serve(struct dird *d, int sfd, int lfd, int pam_fd, int userdb_fd)
{
	static struct clients clients;
	static struct pollfd p[5 + MAX_CLIENTS];
	for (;;) {
		p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = d->wake_fd, .events = POLLIN };
		p[3] = (struct pollfd){ .fd = pam_fd, .events = POLLIN };
		p[4] = (struct pollfd){ .fd = userdb_fd, .events = POLLIN };
		size_t n_clients = clients_pollfds(&clients, p + 5);
		int timeout = next_timeout(d);
		long long client_wait = clients_next_deadline(&clients, now_ms());
		if (client_wait >= 0 && client_wait < timeout)
			timeout = (int)client_wait;
		int r = poll(p, 5 + n_clients, timeout);
		if (r < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			break;
		}
		if (r > 0 && (p[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					pthread_mutex_lock(&d->lock);
					d->reload_pending = true;
					pthread_mutex_unlock(&d->lock);
				} else if (si.ssi_signo != SIGPIPE) {
					break;
				}
			}
		}
		/* Clients first: accepting may move them around in the table. */
		clients_service(d, &clients, p + 5, n_clients);
		if (r > 0 && (p[1].revents & POLLIN))
			clients_accept(&clients, lfd, SOCKET_LOOKUP);
		if (r > 0 && (p[3].revents & POLLIN))
			clients_accept(&clients, pam_fd, SOCKET_PAM);
		if (r > 0 && (p[4].revents & POLLIN))
			clients_accept(&clients, userdb_fd, SOCKET_USERDB);
		uint64_t wakes;
		if (r > 0 && (p[2].revents & POLLIN) && read(d->wake_fd, &wakes, sizeof(wakes)) < 0)
			log_debug("wake: %s", strerror(errno));
		clients_take_replies(d, &clients);
		on_tick(d);
	}
}

/* The sockets dird listened on (the userdb one when it got it), removed as it stops. */
static void remove_sockets(const struct dird *d, bool userdb)
{
	char sock[PATH_MAX];
	snprintf(sock, sizeof(sock), "%s/%s", d->cfg.run_dir, DIR_SOCKET_NAME);
	unlink(sock);
	snprintf(sock, sizeof(sock), "%s/%s", d->cfg.run_dir, DIR_PAM_SOCKET_NAME);
	unlink(sock);
	if (userdb)
		unlink(d->cfg.userdb_socket);
}

/* Nobody else may put a socket (pam_dir would send it passwords) or an index there. */
static int ensure_own_dirs(const struct dird *d)
{
	const char *const dirs[][2] = { { "run_dir", d->cfg.run_dir }, { "cache_dir", d->cfg.cache_dir } };
	for (size_t i = 0; i < 2; i++)
		if (dir_ensure(dirs[i][1], 0755) < 0) {
			log_error("%s %s: %s", dirs[i][0], dirs[i][1], errno == EPERM ?
				  "not root's own, or group or others may write to it: use a directory "
				  "only root writes to" : strerror(errno));
			return -1;
		}
	return 0;
}

/* The cache on disk first, then what brings it up to date: the change streams, AD's poll or a refresh. */
static void load_cache_and_start_sync(struct dird *d)
{
	/* Streams that resume from their stored positions bring the cache up to date themselves. */
	bool resumes = sync_resumes_all(d);
	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	db_init(&d->db);
	publish_load_cache(d);
	sync_start_locked(d); /* first: refresh_due_locked asks which domains stream */
	if (resumes) {
		log_info("every domain's change stream resumes from its stored position: no full refresh");
		d->next_refresh = time(NULL) + (time_t)d->cfg.refresh_interval;
	} else if (d->cfg.enumerate && ad_poll_serves_all(d)) {
		/* AD's poll goes on from the position the cache holds, or reads it whole when it
		 * holds none (ad_poll.c) */
		d->next_refresh = (d->last_refresh ? d->last_refresh : time(NULL)) +
				  (time_t)d->cfg.refresh_interval;
	} else if (d->cfg.enumerate) {
		refresh_due_locked(d);
	}
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
}

int main(int argc, char **argv)
{
	sigset_t sigs;
	block_signals(&sigs);
	bool foreground = false;
	const char *conf = NULL;
	int stop = parse_args(argc, argv, &foreground, &conf);
	if (stop >= 0)
		return stop;
	bypass_own_nss_module();
	/* Our own configuration only: no ~/.ldaprc or /etc/ldap/ldap.conf surprises. */
	setenv("LDAPNOINIT", "1", 1);
	/* Host names in uris are resolved with the system resolver: bound each of its waits
	 * (the default is 5 s, tried twice per server) so DNS stays within the domain timeout. */
	setenv("RES_OPTIONS", "timeout:2 attempts:1", 0);
	log_setup("dird", true, DIR_LOG_INFO);

	static struct dird d = { .store_lock = PTHREAD_MUTEX_INITIALIZER,
				 .lock = PTHREAD_MUTEX_INITIALIZER,
				 .replies_lock = PTHREAD_MUTEX_INITIALIZER,
				 .poll_cond = PTHREAD_COND_INITIALIZER };
	if (load_config(conf ? conf : dir_config_path(), &d.cfg) < 0)
		return 1;
	test_hook("start");
	/* For GSSAPI binds, which read only the environment; set before any thread starts. */
	if (d.cfg.krb5_config)
		setenv("KRB5_CONFIG", d.cfg.krb5_config, 1);
	if (ensure_own_dirs(&d) < 0 || take_instance_lock(d.cfg.run_dir) < 0 || setup_state(&d) < 0)
		return 1;

	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	int lfd = server_listen(d.cfg.run_dir, DIR_SOCKET_NAME, 0666);
	int pam_fd = server_listen(d.cfg.run_dir, DIR_PAM_SOCKET_NAME, 0600);
	d.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sfd < 0 || lfd < 0 || pam_fd < 0 || d.wake_fd < 0)
		return 1;
	/* An extra for systemd's tools: without it, NSS and PAM are served all the same. */
	int userdb_fd = d.cfg.userdb_socket ? userdb_listen(d.cfg.userdb_socket) : -1;
	if (!foreground) {
		if (daemon(0, 0) < 0) {
			log_error("cannot detach: %s", strerror(errno));
			return 1;
		}
		log_setup("dird", false, d.cfg.log_level);
	}
	log_set_level(d.cfg.log_level);

	if (worker_start(&d) < 0 || renew_start(&d) < 0) {
		log_error("cannot start the worker or the ticket renewal thread");
		return 1;
	}
	load_cache_and_start_sync(&d);
	if (ad_poll_start(&d) < 0) {
		log_error("cannot start the AD poll thread");
		return 1;
	}
	log_info("ready, listening on %s/%s", d.cfg.run_dir, DIR_SOCKET_NAME);
	notify_ready();

	serve(&d, sfd, lfd, pam_fd, userdb_fd);

	log_info("stopping");
	/* Wait for a refresh that is writing files, so it ends with a whole cache. */
	pthread_mutex_lock(&d.store_lock);
	pthread_mutex_lock(&d.lock);
	local_watch_stop_locked(&d);
	pthread_mutex_unlock(&d.lock);
	remove_sockets(&d, userdb_fd >= 0);
	return 0;
}
