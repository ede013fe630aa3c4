/* dirctl: the administrator's view of dird and its cache. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "dirctl.h"
#include "protocol.h"

#define CALL_TIMEOUT_MS 5000

/* Each command: its lines in `dirctl --help`; what `dirctl CMD --help` adds about its options;
 * and where --json works: NULL nowhere (it is refused), "" in every form, else the subcommands
 * that have it, separated by blanks. */
static const struct {
	const char *cmd;
	const char *text;
	const char *options;
	const char *json;
} commands[] = {
	{ "status", "  status               dird, each domain and the cache\n", NULL, "" },
	{ "config", "  config check [FILE]  check dird.conf (or FILE) as dird would, without dird\n",
	  NULL, NULL },
	{ "cache", "  cache refresh [--accept-shrink]\n"
		   "                       read the whole directory now\n"
		   "  cache flush          empty the cache (long-running processes see it at once)\n"
		   "  cache expire [--group] NAME|ID\n"
		   "                       that user (group) is asked of the directory at its next lookup\n",
	  "  --accept-shrink      replace the cache even when the refresh finds less than half\n"
	  "                       of its users or groups (else such a refresh is kept out)\n"
	  "  --group              expire a group, not a user\n", NULL },
	{ "log-level", "  log-level LEVEL      dird logs at LEVEL (error, warning, info, debug) now, until it\n"
		       "                       reloads; no refresh\n", NULL, NULL },
	{ "user", "  user NAME|UID        a cached user record (fetched if not cached)\n", NULL, "" },
	{ "user-checks", "  user-checks NAME [--service SERVICE]\n"
			 "                       why NAME is or is not served and may log in: its entry\n"
			 "                       (DN), the rule that hides it, account state, access rules,\n"
			 "                       the PAM service's answer (no password asked)\n",
	  "  --service SERVICE    the PAM service whose account phase is run (sshd)\n"
	  "  --json               the checks as JSON, as dirctl test --json\n", "" },
	{ "group", "  group NAME|GID       a cached group record (fetched if not cached)\n", NULL, "" },
	{ "users", "  users                every cached user\n", NULL, "" },
	{ "groups", "  groups               every cached group\n", NULL, "" },
	{ "sessions", "  sessions             live login sessions (pam_dir.so registers them)\n", NULL, "" },
	{ "ssh-keys", "  ssh-keys USER        USER's SSH public keys, for sshd's AuthorizedKeysCommand\n",
	  NULL, NULL },
	{ "domain", "  domain info [DOMAIN] where each domain is served from: server, port, base, clock, realm\n",
	  NULL, "info" },
	{ "test", "  test [--verbose] [DOMAIN|REALM]\n"
		  "                       talk to each domain and realm step by step; say what fails\n"
		  "                       and why\n",
	  "  --verbose            show the domain's settings first, and libldap's and dird's debug\n"
	  "                       messages on stderr\n"
	  "  --json               the steps as JSON: {\"result\", \"tests\": [{\"domain\" or \"realm\",\n"
	  "                       \"steps\": [{\"step\", \"ok\", \"ms\", \"what\", \"cause\"}], \"notes\",\n"
	  "                       \"result\", \"failed_at\"}]}; exit 1 when a step fails\n", "" },
	{ "enable", "  enable [--dry-run] [--no-pam] [--dir-first] [--nsswitch FILE] [--pam-dir DIR]\n"
		    "         [--truenas] [--ssh [--sshd-config FILE]]\n"
		    "                       put dir on nsswitch.conf's passwd and group lines (after files;\n"
		    "                       --dir-first: before it)\n"
		    "                       and pam_dir into PAM (Debian: pam-auth-update's dir profile in\n"
		    "                       common-*); a backup of what changes is kept;\n"
		    "                       --ssh: sshd asks dirctl ssh-keys (sshd_config.d/dir.conf)\n",
	  "  --dry-run            say what would change, change nothing\n"
	  "  --no-pam             nsswitch.conf only; leave PAM as it is\n"
	  "  --dir-first          dir before files: directory users are found without a scan of\n"
	  "                       /etc/passwd (local names and ids are still left to files)\n"
	  "  --nsswitch FILE      this file instead of /etc/nsswitch.conf\n"
	  "  --pam-dir DIR        PAM services in DIR instead of /etc/pam.d (no pam-auth-update)\n"
	  "  --truenas            also the TrueNAS services (truenas, truenas-session, truenas-unix)\n"
	  "  --ssh                also the sshd drop-in that has sshd ask dirctl ssh-keys, checked\n"
	  "                       with sshd -T\n"
	  "  --sshd-config FILE   the sshd_config whose sshd_config.d gets it (/etc/ssh/sshd_config)\n",
	  NULL },
	{ "disable", "  disable [...]        the same options: take them off again\n",
	  "  the options of enable but --dir-first: --dry-run, --no-pam, --nsswitch FILE,\n"
	  "  --pam-dir DIR, --truenas, --ssh, --sshd-config FILE (dirctl enable --help)\n", NULL },
	{ "sid-to-id", "  sid-to-id SID        the uid or gid an AD SID maps to (wbinfo -S / -Y)\n", NULL, "" },
	{ "sid-to-name", "  sid-to-name SID      the name of an AD SID (wbinfo -s)\n", NULL, "" },
	{ "id-to-sid", "  id-to-sid [--group] ID\n"
		       "                       the AD SID of a uid (or gid) (wbinfo -U / -G)\n",
	  "  --group              ID is a gid\n", "" },
	{ "name-to-sid", "  name-to-sid NAME     the AD SID of a user or group (wbinfo -n)\n", NULL, "" },
	{ "ads", "  ads join [--user ADMIN] [--fqdn HOST] [--computer-name NAME] [DOMAIN]\n"
		 "                       join this host to an AD domain (adcli; password on stdin)\n"
		 "  ads leave [--user ADMIN] [DOMAIN]\n"
		 "                       delete the machine account and its keys (password on stdin)\n"
		 "  ads rotate [--auto] [DOMAIN]\n"
		 "                       change the machine password (--auto: if older than\n"
		 "                       machine_password_max_age)\n"
		 "  ads test [DOMAIN]    whether the machine account works against a DC\n"
		 "  ads info [DOMAIN]    DC, realm, bind path, clocks, last machine password change\n",
	  "  --user ADMIN         the AD account that may join or delete computers (Administrator)\n"
	  "  --fqdn HOST          this host's DNS name (default: its host name, in the domain's\n"
	  "                       DNS domain when it has no dot)\n"
	  "  --computer-name NAME the computer account's name (adcli's default: from HOST)\n"
	  "  --auto               rotate only when the password is older than\n"
	  "                       machine_password_max_age days (the daily timer's way)\n"
	  "  --json               ads info only\n", "info" },
	{ "apikey", "  apikey add USER [--name NAME] [--expires DATE] [--iterations N]\n"
		    "                       a new API key for USER, printed once (<id>-<secret>)\n"
		    "  apikey list [USER]   the API keys (never their secrets)\n"
		    "  apikey revoke ID     a key that no longer logs in\n",
	  "  --name NAME          a label to tell the key by\n"
	  "  --expires DATE       YYYY-MM-DD: the key stops working after that day\n"
	  "  --iterations N       PBKDF2 rounds of its verifiers (50000 ... 5000000; 500000)\n"
	  "  --json               apikey list only\n", "list" },
	{ "keytab", "  keytab add NAME FILE|-\n"
		    "                       install a keytab (merged into the host keytab)\n"
		    "  keytab list          the installed keytabs: principals, kvno, enctypes, uses\n"
		    "  keytab remove NAME   take its keys out of the host keytab\n"
		    "  keytab check [NAME]  prove each key against the KDC (a stale kvno, and the fix)\n",
	  "  --json               keytab list and keytab check only\n", "list check" },
	{ "krb5conf", "  krb5conf [--write]   the krb5.conf of the configured realms (--write: install it\n"
		      "                       as krb5_config or /etc/krb5.conf, keeping a backup)\n",
	  "  --write              install it (only when it changes; libkrb5 reads it first; the old\n"
	  "                       one kept as krb5.conf.dirctl-backup) instead of printing it\n", NULL },
	{ "pam", "  pam render [--local] [--stig] [--2fa [--oath-users FILE]] [--dir DIR]\n"
		 "                       write the PAM services for this configuration (/etc/pam.d)\n",
	  "  --local              local users only: pam_dir leaves authentication and account\n"
	  "                       checks alone (sessions are still registered)\n"
	  "  --stig               pam_faildelay (4 s), pam_faillock (3 failures in 15 minutes lock\n"
	  "                       the account for 15 minutes) and max_sessions=10\n"
	  "  --2fa                a one-time password (pam_oath) after the password\n"
	  "  --oath-users FILE    pam_oath's users file (/etc/users.oath)\n"
	  "  --dir DIR            write into DIR instead of /etc/pam.d\n", NULL },
};

static const char options_help[] =
	"Options:\n"
	"  -c, --config FILE    read FILE instead of $DIR_CONF or " DIR_DEFAULT_CONF "\n"
	"  -j, --json           JSON output, where the command has it (else refused)\n"
	"  -h, --help           this help (dirctl COMMAND --help: that command's)\n"
	"  -V, --version        dirctl's version\n"
	"Exit codes: 0 ok, 1 failed, 2 usage, 3 dird not running, 4 a domain offline,\n"
	"5 no such user or group.\n";

static void usage(FILE *f)
{
	fprintf(f, "Usage: dirctl [-c FILE] [--json] COMMAND\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fputs(commands[i].text, f);
	fputs(options_help, f);
}

/* --json on a command (and subcommand) without JSON output: refused, never ignored. */
static bool json_refused(const char *cmd, const char *sub)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].cmd, cmd))
			continue;
		const char *j = commands[i].json;
		if (j && !*j)
			return false;
		size_t n = sub ? strlen(sub) : 0;
		for (const char *p = j; p && n && (p = strstr(p, sub)); p += n)
			if ((p == j || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
				return false;
		fprintf(stderr, "dirctl: %s%s%s has no JSON output; leave out --json\n", cmd,
			sub ? " " : "", sub ? sub : "");
		return true;
	}
	return false; /* an unknown command: the usage says so */
}

/* dirctl CMD --help: true when it printed that command's help. */
static bool command_help(const char *cmd)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].cmd, cmd)) {
			printf("Usage: dirctl [-c FILE]%s %s ...\n%s%s%s%s", commands[i].json ?
			       " [--json]" : "", cmd, commands[i].text,
			       commands[i].options ? "Options of " : "", commands[i].options ?
			       cmd : "", commands[i].options ? ":\n" : "");
			if (commands[i].options)
				fputs(commands[i].options, stdout);
			fputs(options_help, stdout);
			return true;
		}
	return false;
}

void ctl_format_utc(long long t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, outlen, "%s", t == 0 ? "never" : "unknown");
}

void ctl_directory_env(const struct ctl *c)
{
	/* As dird: our configuration only (no ~/.ldaprc), bounded DNS waits, dird's krb5.conf. */
	setenv("LDAPNOINIT", "1", 1);
	setenv("RES_OPTIONS", "timeout:2 attempts:1", 0);
	if (c->cfg.krb5_config)
		setenv("KRB5_CONFIG", c->cfg.krb5_config, 1);
}

int ctl_call(const struct ctl *c, uint32_t op, const struct buf *body, uint32_t *status,
	     struct buf *reply)
{
	if (dir_client_call(c->cfg.run_dir, CALL_TIMEOUT_MS, op, body, status, reply) == 0)
		return EXIT_OK;
	if (errno == ENOENT || errno == ECONNREFUSED) {
		fprintf(stderr, "dirctl: dird is not running (no socket in %s); start it with "
				"'dird' or 'systemctl start dird'\n", c->cfg.run_dir);
		return EXIT_NO_DAEMON;
	}
	fprintf(stderr, "dirctl: talking to dird failed: %s\n", strerror(errno));
	return EXIT_FAIL;
}

/* What parse_global_options and load_config return when main goes on: no exit code. */
#define GO_ON (-1)

/* The options before the command: GO_ON, or the exit code (--help, --version, a bad option). */
static int parse_global_options(int argc, char **argv, struct ctl *c, const char **conf)
{
	static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
					      { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      { "version", no_argument, NULL, 'V' },
					      { NULL, 0, NULL, 0 } };
	int o;
	/* '+': options end at the command; its own arguments follow. */
	while ((o = getopt_long(argc, argv, "+c:jhV", opts, NULL)) != -1) {
		switch (o) {
		case 'c': *conf = optarg; break;
		case 'j': c->json = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("dirctl %s\n", DIR_VERSION); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	return GO_ON;
}

/* --json may also follow the command: takes it out of the command's arguments; returns their new count. */
static int take_json_after_command(int argc, char **argv, struct ctl *c)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			c->json = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(char *));
			argc--;
			i--;
		}
	return argc;
}

/* Loads the configuration into c: GO_ON, or the exit code. When it does not load, disable runs without it,
 * and the commands that need_only_dird (status, ssh-keys) go on with dird's run_dir and c->config_error
 * set to err (which must outlive c). */
static int load_config(struct ctl *c, const char *path, bool need_only_dird, int argc, char **argv,
		       char *err, size_t errlen)
{
	if (dir_config_load(path, &c->cfg, err, errlen) >= 0)
		return GO_ON;
	/* disable reads nothing from the configuration: backing out must work with a
	 * dird.conf broken or removed */
	if (!strcmp(argv[0], "disable")) {
		fprintf(stderr, "dirctl: warning: %s (disable does not need it)\n", err);
		/* but its name: --ssh compares the drop-in with the command it would write */
		c->cfg.path = strdup(path);
		int rc = c->cfg.path ? cmd_enable(c, false, argc - 1, argv + 1) : EXIT_FAIL;
		dir_config_free(&c->cfg);
		return rc;
	}
	fprintf(stderr, "dirctl: %s\n", err);
	if (!need_only_dird)
		return EXIT_FAIL;
	/* dird keeps the configuration it read last: ask it how it is doing anyway, and
	 * sshd's keys of directory users keep coming. */
	struct dir_module_config m;
	dir_module_config_read(path, &m);
	c->cfg.run_dir = strdup(m.run_dir);
	if (!c->cfg.run_dir)
		return EXIT_FAIL;
	c->config_error = err;
	return GO_ON;
}

/* The commands that read their own arguments (the rest are run_command's). */
static const struct {
	const char *cmd;
	int (*run)(struct ctl *c, int argc, char **argv);
} runs_with_arguments[] = {
	{ "domain", cmd_domain }, { "test", cmd_test }, { "user-checks", cmd_user_checks },
	{ "apikey", cmd_apikey }, { "keytab", cmd_keytab }, { "ads", cmd_ads },
	{ "krb5conf", cmd_krb5conf }, { "pam", cmd_pam }, { "ssh-keys", cmd_ssh_keys },
	{ "cache", cmd_cache }, { "log-level", cmd_log_level },
};

/* Runs the command argv[0] with its arguments; prints the usage for an unknown one. */
static int run_command(struct ctl *c, int argc, char **argv)
{
	const char *cmd = argv[0];
	for (size_t i = 0; i < sizeof(runs_with_arguments) / sizeof(runs_with_arguments[0]); i++)
		if (!strcmp(cmd, runs_with_arguments[i].cmd))
			return runs_with_arguments[i].run(c, argc - 1, argv + 1);
	if (!strcmp(cmd, "status") && argc == 1)
		return cmd_status(c);
	if (!strcmp(cmd, "enable") || !strcmp(cmd, "disable"))
		return cmd_enable(c, cmd[0] == 'e', argc - 1, argv + 1);
	if (!strcmp(cmd, "sid-to-id") || !strcmp(cmd, "sid-to-name") ||
	    !strcmp(cmd, "id-to-sid") || !strcmp(cmd, "name-to-sid"))
		return cmd_sid(c, cmd, argc - 1, argv + 1);
	if (!strcmp(cmd, "sessions") && argc == 1)
		return cmd_sessions(c);
	if ((!strcmp(cmd, "user") || !strcmp(cmd, "group")) && argc == 2)
		return cmd_show(c, cmd[0] == 'u', argv[1]);
	if ((!strcmp(cmd, "users") || !strcmp(cmd, "groups")) && argc == 1)
		return cmd_list(c, cmd[0] == 'u' && cmd[4] == 's');
	usage(stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct ctl c = { .json = false };
	const char *conf = NULL;
	int rc = parse_global_options(argc, argv, &c, &conf);
	if (rc != GO_ON)
		return rc;
	argc -= optind;
	argv += optind;
	argc = take_json_after_command(argc, argv, &c);
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++)
		if ((!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) && command_help(argv[0]))
			return EXIT_OK;
	if (c.json && json_refused(argv[0], argc > 1 ? argv[1] : NULL))
		return EXIT_USAGE;
	char err[1024];
	const char *path = conf ? conf : dir_config_path();
	/* Checking the file is what to do when it does not load. */
	if (!strcmp(argv[0], "config"))
		return cmd_config(path, argc - 1, argv + 1);
	bool need_only_dird = (!strcmp(argv[0], "status") && argc == 1) || !strcmp(argv[0], "ssh-keys");
	rc = load_config(&c, path, need_only_dird, argc, argv, err, sizeof(err));
	if (rc != GO_ON)
		return rc;
	rc = run_command(&c, argc, argv);
	dir_config_free(&c.cfg);
	return rc;
}
