/* dirctl ads join|leave|rotate|test|info: this host's machine account in an AD domain.  The
 * account work is adcli's (Debian's adcli, as realmd and SSSD use it): it creates the computer
 * account, sets and changes its password and writes the keytab with AES keys.  dirctl gives it
 * the domain's settings, hands it the administrator's password on a pipe (never on its command
 * line), and reads the results back from the DC and the keytab. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "account_policy.h"
#include "dirctl.h"
#include "protocol.h"
#include "fetch.h"
#include "ldap_conn.h"
#include "log.h"
#include "secret.h"

#define ADCLI "/usr/sbin/adcli"
#define MAX_PASSWORD 1024

struct ads_opts {
	const char *user;		/* join, leave: the administrator */
	const char *fqdn;		/* join: this host's name in the domain */
	const char *computer_name;	/* join: default from fqdn */
	bool automatic;			/* rotate: only when older than machine_password_max_age */
	const char *domain;		/* the [domain/NAME] section; default the first AD one */
};

/* The keytab that holds the machine's keys: the domain's GSSAPI keytab, else krb5_keytab. */
static const char *host_keytab(const struct dir_domain *d)
{
	return d->keytab ? d->keytab : d->krb5_keytab;
}

/* The host of the domain's first uri, for adcli -S; empty: adcli finds a DC in DNS. */
static void domain_controller(const struct dir_domain *d, char *out, size_t outlen)
{
	LDAPURLDesc *url = NULL;
	out[0] = '\0';
	if (d->uri && ldap_url_parse(d->uri, &url) == LDAP_URL_SUCCESS && url->lud_host)
		snprintf(out, outlen, "%s", url->lud_host);
	ldap_free_urldesc(url);
}

/* The password on our stdin: one line (a trailing newline is not part of it), never empty. */
static char *read_password(void)
{
	char *pw = calloc(1, MAX_PASSWORD + 2);
	if (!pw)
		return NULL;
	struct termios saved, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty) { /* typed at a terminal: not echoed */
		quiet = saved;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		fprintf(stderr, "Password: ");
	}
	size_t len = 0;
	ssize_t got;
	while (len < MAX_PASSWORD + 1 && (got = read(STDIN_FILENO, pw + len, MAX_PASSWORD + 1 - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			break;
		len += (size_t)got;
		if (memchr(pw, '\n', len))
			break;
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	size_t n = strcspn(pw, "\r\n");
	explicit_bzero(pw + n, MAX_PASSWORD + 2 - n); /* what came after the line, too */
	if (!*pw || strlen(pw) > MAX_PASSWORD) {
		fprintf(stderr, "dirctl: %s password on stdin\n", *pw ? "too long a" : "no");
		secret_free(pw);
		return NULL;
	}
	return pw;
}

/* adcli's argv.  An argument that does not fit makes the whole command line refused: adcli
 * without, say, its --host-keytab would write the system's keytab. */
#define MAX_ARGS 20
struct args {
	char *v[MAX_ARGS + 1];
	char buf[MAX_ARGS][1200];
	size_t n;
	bool overflow;
};

static void arg(struct args *a, const char *fmt, const char *value)
{
	if (a->n == MAX_ARGS ||
	    snprintf(a->buf[a->n], sizeof(a->buf[0]), fmt, value) >= (int)sizeof(a->buf[0])) {
		a->overflow = true;
		return;
	}
	a->v[a->n] = a->buf[a->n];
	a->v[++a->n] = NULL;
}

/* Runs adcli with a's arguments, the password (may be NULL) on its stdin, its output passed through
 * when verbose or when it fails.  Its exit status, or -1. */
static int run_adcli(const struct args *a, const char *password, bool verbose)
{
	char *const *argv = a->v;
	int in[2], out[2];
	if (a->overflow) {
		fprintf(stderr, "dirctl: an argument for adcli is too long\n");
		return -1;
	}
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		perror("dirctl: pipe");
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("dirctl: fork");
		return -1;
	}
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		execv(ADCLI, argv);
		fprintf(stderr, "cannot run %s: %s (install Debian's adcli)\n", ADCLI, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (password && write(in[1], password, strlen(password)) < 0)
		perror("dirctl: writing to adcli");
	close(in[1]);
	char text[16384];
	size_t len = 0;
	ssize_t n;
	while ((n = read(out[0], text + len, sizeof(text) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) == sizeof(text) - 1)
			break;
	}
	text[len] = '\0';
	close(out[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (verbose || rc != 0)
		fputs(text, rc ? stderr : stdout);
	return rc;
}

static void domain_args(struct args *a, const char *verb, const struct dir_domain *d, bool realm)
{
	char dc[256];
	a->n = 0;
	a->overflow = false;
	arg(a, "%s", "adcli");
	arg(a, "%s", verb);
	arg(a, "--domain=%s", d->dns_domain);
	if (realm)
		arg(a, "--domain-realm=%s", d->realm);
	domain_controller(d, dc, sizeof(dc));
	if (*dc)
		arg(a, "--domain-controller=%s", dc);
}

/* The machine account in the keytab: the one principal NAME$@REALM. */
static int machine_account(const char *keytab, const char *realm, char *out, size_t outlen)
{
	krb5_context ctx;
	krb5_keytab kt = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	int rc = -1;
	if (krb5_init_context(&ctx))
		return -1;
	if (krb5_kt_resolve(ctx, keytab, &kt) || krb5_kt_start_seq_get(ctx, kt, &cur))
		goto out;
	while (rc < 0 && krb5_kt_next_entry(ctx, kt, &e, &cur) == 0) {
		char *name = NULL;
		if (krb5_princ_size(ctx, e.principal) == 1 &&
		    krb5_unparse_name_flags(ctx, e.principal, KRB5_PRINCIPAL_UNPARSE_NO_REALM, &name) == 0) {
			size_t n = strlen(name);
			const krb5_data *r = krb5_princ_realm(ctx, e.principal);
			if (n > 1 && name[n - 1] == '$' && r->length == strlen(realm) &&
			    !strncasecmp(r->data, realm, r->length) && n < outlen) {
				memcpy(out, name, n + 1);
				rc = 0;
			}
		}
		krb5_free_unparsed_name(ctx, name);
		krb5_free_keytab_entry_contents(ctx, &e);
	}
	krb5_kt_end_seq_get(ctx, kt, &cur);
out:
	if (kt)
		krb5_kt_close(ctx, kt);
	krb5_free_context(ctx);
	return rc;
}

/* Removes every key of realm from the keytab (after a leave).  How many, or -1. */
static int forget_realm_keys(const char *keytab, const char *realm)
{
	krb5_context ctx;
	krb5_keytab kt = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	int removed = 0;
	if (krb5_init_context(&ctx))
		return -1;
	if (krb5_kt_resolve(ctx, keytab, &kt) == 0) {
		/* Entries cannot be removed while iterating: one pass per removal. */
		for (bool again = true; again;) {
			again = false;
			if (krb5_kt_start_seq_get(ctx, kt, &cur))
				break;
			while (!again && krb5_kt_next_entry(ctx, kt, &e, &cur) == 0) {
				const krb5_data *r = krb5_princ_realm(ctx, e.principal);
				again = r->length == strlen(realm) && !strncasecmp(r->data, realm, r->length);
				if (!again)
					krb5_free_keytab_entry_contents(ctx, &e);
			}
			krb5_kt_end_seq_get(ctx, kt, &cur);
			if (again) {
				if (krb5_kt_remove_entry(ctx, kt, &e) == 0)
					removed++;
				else
					again = false;
				krb5_free_keytab_entry_contents(ctx, &e);
			}
		}
		krb5_kt_close(ctx, kt);
	}
	krb5_free_context(ctx);
	return removed;
}

/* The machine account's pwdLastSet as a unix time, read with the domain's own bind: 0 never
 * set, -1 unknown. */
static int take_pwd_last_set(LDAP *ld, LDAPMessage *e, void *arg)
{
	long long *out = arg;
	struct berval **v = ldap_get_values_len(ld, e, "pwdLastSet");
	if (v && v[0] && v[0]->bv_len < 32) {
		char s[32];
		memcpy(s, v[0]->bv_val, v[0]->bv_len);
		s[v[0]->bv_len] = '\0';
		char *end;
		long long nt = strtoll(s, &end, 10);
		if (!*end && end != s)
			*out = ad_time_to_unix(nt);
	}
	ldap_value_free_len(v);
	return 0;
}

static long long machine_password_set(const struct dir_domain *d, const char *account)
{
	struct ldap_conn conn;
	char err[512];
	long long when = -1;
	const char *attrs[] = { "pwdLastSet", NULL };
	char *filter = fetch_filter("(objectClass=computer)", "sAMAccountName", account, 0);
	if (filter && ldap_conn_open(&conn, d, NULL, err, sizeof(err)) == 0) {
		ldap_conn_search(&conn, d->base_dn, DIR_SCOPE_SUB, filter, attrs, take_pwd_last_set,
				 &when, err, sizeof(err));
		ldap_conn_close(&conn);
	}
	free(filter);
	return when;
}

/* dird-machine-password.timer (dirctl ads rotate --auto, daily): enabled at join, disabled at
 * leave once no AD domain is joined.  Through systemctl when systemd runs this host (its
 * /run/systemd/system, as sd_booted checks); otherwise the administrator is told. */
static void password_timer(bool enable)
{
	static const char timer[] = "dird-machine-password.timer";
	if (access("/run/systemd/system", F_OK) < 0) {
		printf("systemd does not run this host: %s is not %s; %s\n", timer,
		       enable ? "enabled" : "disabled",
		       enable ? "run 'dirctl ads rotate --auto' daily (cron) so that the machine password changes" :
				"remove any daily 'dirctl ads rotate --auto' you set up");
		return;
	}
	const char *verb = enable ? "enable" : "disable";
	pid_t pid = fork();
	if (pid == 0) {
		execlp("systemctl", "systemctl", verb, "--now", timer, (char *)NULL);
		_exit(127);
	}
	int status = 0;
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "dirctl: 'systemctl %s --now %s' failed: %s it yourself\n", verb, timer, verb);
	else
		printf("%s %s\n", timer, enable ? "enabled: the machine password changes once older than "
						   "machine_password_max_age" : "disabled");
}

static int ads_join(struct ctl *c, const struct dir_domain *d, const struct ads_opts *o)
{
	char fqdn[256];
	if (o->fqdn) {
		snprintf(fqdn, sizeof(fqdn), "%s", o->fqdn);
	} else {
		char host[200] = "";
		gethostname(host, sizeof(host) - 1);
		if (strchr(host, '.'))
			snprintf(fqdn, sizeof(fqdn), "%s", host);
		else
			snprintf(fqdn, sizeof(fqdn), "%s.%s", host, d->dns_domain);
	}
	char *password = read_password();
	if (!password)
		return EXIT_USAGE;
	struct args a;
	domain_args(&a, "join", d, true);
	arg(&a, "--login-user=%s", o->user ? o->user : "Administrator");
	arg(&a, "%s", "--stdin-password");
	arg(&a, "--host-fqdn=%s", fqdn);
	arg(&a, "--host-keytab=%s", host_keytab(d));
	if (o->computer_name)
		arg(&a, "--computer-name=%s", o->computer_name);
	arg(&a, "%s", "--service-name=host");
	arg(&a, "%s", "--service-name=nfs");
	arg(&a, "%s", "--service-name=cifs");
	int rc = run_adcli(&a, password, false);
	secret_free(password);
	if (rc != 0) {
		fprintf(stderr, "dirctl: joining %s failed (adcli above says why)\n", d->realm);
		return EXIT_FAIL;
	}
	char account[256] = "?";
	machine_account(host_keytab(d), d->realm, account, sizeof(account));
	if (!c->json)
		printf("joined %s as %s (%s); keys for host/, nfs/ and cifs/ in %s\n", d->realm,
		       account, fqdn, host_keytab(d));
	password_timer(true);
	return EXIT_OK;
}

static int ads_leave(const struct ctl *c, const struct dir_domain *d, const struct ads_opts *o)
{
	char account[256];
	if (machine_account(host_keytab(d), d->realm, account, sizeof(account)) < 0) {
		fprintf(stderr, "dirctl: %s holds no machine account of %s: not joined\n",
			host_keytab(d), d->realm);
		return EXIT_FAIL;
	}
	char *password = read_password();
	if (!password)
		return EXIT_USAGE;
	struct args a;
	domain_args(&a, "delete-computer", d, true);
	arg(&a, "--login-user=%s", o->user ? o->user : "Administrator");
	arg(&a, "%s", "--stdin-password");
	account[strlen(account) - 1] = '\0'; /* adcli wants the name without its '$' */
	arg(&a, "%s", account);
	int rc = run_adcli(&a, password, false);
	secret_free(password);
	if (rc != 0) {
		fprintf(stderr, "dirctl: removing %s from %s failed (adcli above says why)\n", account,
			d->realm);
		return EXIT_FAIL;
	}
	int removed = forget_realm_keys(host_keytab(d), d->realm);
	printf("left %s: the computer account %s is deleted and %d keys removed from %s\n", d->realm,
	       account, removed < 0 ? 0 : removed, host_keytab(d));
	bool joined = false; /* to another AD domain still */
	for (size_t i = 0; i < c->cfg.n_domains; i++) {
		const struct dir_domain *other = &c->cfg.domains[i];
		joined |= other->type == DIR_DOMAIN_AD &&
			  machine_account(host_keytab(other), other->realm, account, sizeof(account)) == 0;
	}
	if (!joined)
		password_timer(false);
	return EXIT_OK;
}

static int ads_rotate(const struct dir_domain *d, const struct ads_opts *o)
{
	char account[256], lifetime[16];
	if (machine_account(host_keytab(d), d->realm, account, sizeof(account)) < 0) {
		if (o->automatic)
			return EXIT_OK; /* the timer on a host that has not joined */
		fprintf(stderr, "dirctl: %s holds no machine account of %s: join first\n",
			host_keytab(d), d->realm);
		return EXIT_FAIL;
	}
	if (o->automatic && d->machine_password_max_age == 0)
		return EXIT_OK; /* machine_password_max_age = 0: never automatically */
	snprintf(lifetime, sizeof(lifetime), "%u", o->automatic ? d->machine_password_max_age : 0);
	account[strlen(account) - 1] = '\0';
	struct args a;
	domain_args(&a, "update", d, false);
	arg(&a, "--host-keytab=%s", host_keytab(d));
	arg(&a, "--computer-name=%s", account);
	arg(&a, "--computer-password-lifetime=%s", lifetime);
	if (run_adcli(&a, NULL, false) != 0) {
		fprintf(stderr, "dirctl: changing %s's password failed (adcli above says why)\n", account);
		return EXIT_FAIL;
	}
	char when[64];
	ctl_format_utc(machine_password_set(d, strcat(account, "$")), when, sizeof(when));
	printf("%s: machine account %s, password last changed %s\n", d->realm, account, when);
	return EXIT_OK;
}

static int ads_test(const struct dir_domain *d)
{
	struct args a;
	domain_args(&a, "testjoin", d, false);
	arg(&a, "--host-keytab=%s", host_keytab(d));
	if (run_adcli(&a, NULL, true) != 0) {
		printf("%s: the machine account does not work (see above); 'dirctl ads join' again\n",
		       d->realm);
		return EXIT_FAIL;
	}
	printf("%s: the machine account works (%s)\n", d->realm, host_keytab(d));
	return EXIT_OK;
}

static int ads_info(struct ctl *c, const struct dir_domain *d)
{
	struct domain_facts f;
	char err[1024];
	if (domain_facts(d, &f, err, sizeof(err)) < 0) {
		fprintf(stderr, "dirctl: %s cannot be reached: %s\n", d->realm, err);
		return EXIT_OFFLINE;
	}
	char account[256], changed[64] = "not joined", server_time[64], kdcs[512];
	long long last = -1;
	bool known = f.server_time >= 0;
	if (machine_account(host_keytab(d), d->realm, account, sizeof(account)) == 0)
		ctl_format_utc(last = machine_password_set(d, account), changed, sizeof(changed));
	ctl_format_utc(f.server_time, server_time, sizeof(server_time));
	domain_realm_kdcs(c, d->realm, kdcs, sizeof(kdcs));
	if (c->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "ldap_server", json_object_new_string(f.host));
		json_object_object_add(o, "ldap_server_name", json_object_new_string(f.server_name));
		json_object_object_add(o, "realm", json_object_new_string(d->realm));
		json_object_object_add(o, "bind_path", json_object_new_string(d->base_dn));
		json_object_object_add(o, "ldap_port", json_object_new_int(f.port));
		json_object_object_add(o, "server_time", known ? json_object_new_int64(f.server_time) : NULL);
		json_object_object_add(o, "kdc_server", json_object_new_string(kdcs));
		json_object_object_add(o, "server_time_offset", known ? json_object_new_int64(f.offset) : NULL);
		json_object_object_add(o, "last_machine_account_password_change",
				       last > 0 ? json_object_new_int64(last) : NULL);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("LDAP server: %s\n", f.host);
		printf("LDAP server name: %s\n", f.server_name);
		printf("Realm: %s\n", d->realm);
		printf("Bind Path: %s\n", d->base_dn);
		printf("LDAP port: %d\n", f.port);
		printf("Server time: %s\n", server_time);
		printf("KDC server: %s\n", kdcs);
		printf("Server time offset: %lld\n", f.offset);
		printf("Last machine account password change: %s\n", changed);
		if (known)
			clock_warning(f.offset);
	}
	return known && (f.offset > DIR_CLOCK_SKEW_SECONDS || f.offset < -DIR_CLOCK_SKEW_SECONDS) ? EXIT_FAIL :
											    EXIT_OK;
}

static int usage(void)
{
	fprintf(stderr, "Usage: dirctl ads join [--user ADMIN] [--fqdn HOST] [--computer-name NAME] [DOMAIN]\n"
			"       dirctl ads leave [--user ADMIN] [DOMAIN]\n"
			"       dirctl ads rotate [--auto] [DOMAIN]\n"
			"       dirctl ads test [DOMAIN]\n"
			"       dirctl [--json] ads info [DOMAIN]\n"
			"(join and leave read the administrator's password from stdin)\n");
	return EXIT_USAGE;
}

int cmd_ads(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = { { "user", required_argument, NULL, 'u' },
					      { "fqdn", required_argument, NULL, 'f' },
					      { "computer-name", required_argument, NULL, 'n' },
					      { "auto", no_argument, NULL, 'a' },
					      { NULL, 0, NULL, 0 } };
	struct ads_opts o = { 0 };
	if (argc < 1)
		return usage();
	const char *verb = argv[0];
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (opt) {
		case 'u': o.user = optarg; break;
		case 'f': o.fqdn = optarg; break;
		case 'n': o.computer_name = optarg; break;
		case 'a': o.automatic = true; break;
		default: return usage();
		}
	}
	if (optind + 1 < argc)
		return usage();
	o.domain = optind < argc ? argv[optind] : NULL;
	const struct dir_domain *d = NULL;
	for (size_t i = 0; i < c->cfg.n_domains && !d; i++)
		if (c->cfg.domains[i].type == DIR_DOMAIN_AD &&
		    (!o.domain || !strcasecmp(o.domain, c->cfg.domains[i].name)))
			d = &c->cfg.domains[i];
	if (!d) {
		fprintf(stderr, "dirctl: no AD domain %s in %s\n", o.domain ? o.domain : "at all",
			c->cfg.path);
		return EXIT_USAGE;
	}
	ctl_directory_env(c);
	log_set_level(DIR_LOG_ERROR);
	if (!strcmp(verb, "join"))
		return ads_join(c, d, &o);
	if (!strcmp(verb, "leave"))
		return ads_leave(c, d, &o);
	if (!strcmp(verb, "rotate"))
		return ads_rotate(d, &o);
	if (!strcmp(verb, "test"))
		return ads_test(d);
	if (!strcmp(verb, "info"))
		return ads_info(c, d);
	return usage();
}
