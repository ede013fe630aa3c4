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

/* Each command's help: the lines `dirctl --help` lists, and `dirctl CMD --help` alone. */
static const struct {
	const char *cmd;
	const char *text;
} commands[] = {
	{ "status", "  status               dird, each domain and the cache\n" },
	{ "cache", "  cache refresh        read the whole directory now\n"
		   "  cache flush          empty the cache (long-running processes see it at once)\n" },
	{ "user", "  user NAME|UID        a cached user record (fetched if not cached)\n" },
	{ "group", "  group NAME|GID       a cached group record (fetched if not cached)\n" },
	{ "users", "  users                every cached user\n" },
	{ "groups", "  groups               every cached group\n" },
	{ "sessions", "  sessions             live login sessions (pam_dir.so registers them)\n" },
	{ "ssh-keys", "  ssh-keys USER        USER's SSH public keys, for sshd's AuthorizedKeysCommand\n" },
	{ "domain", "  domain info [DOMAIN] where each domain is served from: server, port, base, clock, realm\n" },
	{ "test", "  test [--verbose] [DOMAIN|REALM]\n"
		  "                       talk to each domain and realm step by step; say what fails\n"
		  "                       and why\n" },
	{ "enable", "  enable [--dry-run] [--no-pam] [--nsswitch FILE] [--pam-dir DIR]\n"
		    "         [--ssh [--sshd-config FILE]]\n"
		    "                       put dir on nsswitch.conf's passwd and group lines (after files)\n"
		    "                       and install the PAM services; a backup of what changes is kept;\n"
		    "                       --ssh: sshd asks dirctl ssh-keys (sshd_config.d/dir.conf)\n" },
	{ "disable", "  disable [...]        the same options: take them off again\n" },
	{ "sid-to-id", "  sid-to-id SID        the uid or gid an AD SID maps to (wbinfo -S / -Y)\n" },
	{ "sid-to-name", "  sid-to-name SID      the name of an AD SID (wbinfo -s)\n" },
	{ "id-to-sid", "  id-to-sid [--group] ID\n"
		       "                       the AD SID of a uid (or gid) (wbinfo -U / -G)\n" },
	{ "name-to-sid", "  name-to-sid NAME     the AD SID of a user or group (wbinfo -n)\n" },
	{ "ads", "  ads join [--user ADMIN] [--fqdn HOST] [--computer-name NAME] [DOMAIN]\n"
		 "                       join this host to an AD domain (adcli; password on stdin)\n"
		 "  ads leave [--user ADMIN] [DOMAIN]\n"
		 "                       delete the machine account and its keys (password on stdin)\n"
		 "  ads rotate [--auto] [DOMAIN]\n"
		 "                       change the machine password (--auto: if older than\n"
		 "                       machine_password_max_age)\n"
		 "  ads test [DOMAIN]    whether the machine account works against a DC\n"
		 "  ads info [DOMAIN]    DC, realm, bind path, clocks, last machine password change\n" },
	{ "apikey", "  apikey add USER [--name NAME] [--expires DATE] [--iterations N]\n"
		    "                       a new API key for USER, printed once (<id>-<secret>)\n"
		    "  apikey list [USER]   the API keys (never their secrets)\n"
		    "  apikey revoke ID     a key that no longer logs in\n" },
	{ "keytab", "  keytab add NAME FILE|-\n"
		    "                       install a keytab (merged into the host keytab)\n"
		    "  keytab list          the installed keytabs: principals, kvno, enctypes, uses\n"
		    "  keytab remove NAME   take its keys out of the host keytab\n"
		    "  keytab check [NAME]  prove each key against the KDC (a stale kvno, and the fix)\n" },
	{ "krb5conf", "  krb5conf [--write]   the krb5.conf of the configured realms (--write: install it\n"
		      "                       as krb5_config or /etc/krb5.conf, keeping a backup)\n" },
	{ "pam", "  pam render [--local] [--stig] [--2fa [--oath-users FILE]] [--dir DIR]\n"
		 "                       write the PAM services for this configuration (/etc/pam.d)\n" },
};

static const char options_help[] =
	"Options:\n"
	"  -c, --config FILE    read FILE instead of $DIR_CONF or " DIR_DEFAULT_CONF "\n"
	"  -j, --json           JSON output\n"
	"  -h, --help           this help (dirctl COMMAND --help: that command's)\n"
	"Exit codes: 0 ok, 1 failed, 2 usage, 3 dird not running, 4 a domain offline,\n"
	"5 no such user or group.\n";

static void usage(FILE *f)
{
	fprintf(f, "Usage: dirctl [-c FILE] [--json] COMMAND\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fputs(commands[i].text, f);
	fputs(options_help, f);
}

/* dirctl CMD --help: true when it printed that command's help. */
static bool command_help(const char *cmd)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].cmd, cmd)) {
			printf("Usage: dirctl [-c FILE] [--json] %s ...\n%s%s", cmd, commands[i].text,
			       options_help);
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

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "config", required_argument, NULL, 'c' },
					      { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct ctl c = { .json = false };
	const char *conf = NULL;
	int o;
	/* '+': options end at the command; its own arguments follow. */
	while ((o = getopt_long(argc, argv, "+c:jh", opts, NULL)) != -1) {
		switch (o) {
		case 'c': conf = optarg; break;
		case 'j': c.json = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	/* --json may also follow the command. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			c.json = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(char *));
			argc--;
			i--;
		}
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++)
		if ((!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) && command_help(argv[0]))
			return EXIT_OK;
	char err[1024];
	const char *path = conf ? conf : dir_config_path();
	const char *cmd = argv[0];
	bool status = !strcmp(cmd, "status") && argc == 1, ssh_keys = !strcmp(cmd, "ssh-keys");
	if (dir_config_load(path, &c.cfg, err, sizeof(err)) < 0) {
		/* disable reads nothing from the configuration: backing out must work with a
		 * dird.conf broken or removed */
		if (!strcmp(cmd, "disable")) {
			fprintf(stderr, "dirctl: warning: %s (disable does not need it)\n", err);
			/* but its name: --ssh compares the drop-in with the command it would write */
			c.cfg.path = strdup(path);
			int rc = c.cfg.path ? cmd_enable(&c, false, argc - 1, argv + 1) : EXIT_FAIL;
			dir_config_free(&c.cfg);
			return rc;
		}
		fprintf(stderr, "dirctl: %s\n", err);
		if (!status && !ssh_keys)
			return EXIT_FAIL;
		/* dird keeps the configuration it read last: ask it how it is doing anyway, and
		 * sshd's keys of directory users keep coming. */
		struct dir_module_config m;
		dir_module_config_read(path, &m);
		c.cfg.run_dir = strdup(m.run_dir);
		if (!c.cfg.run_dir)
			return EXIT_FAIL;
		c.config_error = err;
	}
	int rc = EXIT_USAGE;
	if (status)
		rc = cmd_status(&c);
	else if (!strcmp(cmd, "enable") || !strcmp(cmd, "disable"))
		rc = cmd_enable(&c, cmd[0] == 'e', argc - 1, argv + 1);
	else if (!strcmp(cmd, "domain"))
		rc = cmd_domain(&c, argc - 1, argv + 1);
	else if (!strcmp(cmd, "test"))
		rc = cmd_test(&c, argc - 1, argv + 1);
	else if (!strcmp(cmd, "sid-to-id") || !strcmp(cmd, "sid-to-name") ||
		 !strcmp(cmd, "id-to-sid") || !strcmp(cmd, "name-to-sid"))
		rc = cmd_sid(&c, cmd, argc - 1, argv + 1);
	else if (!strcmp(cmd, "apikey"))
		rc = cmd_apikey(&c, argc - 1, argv + 1);
	else if (!strcmp(cmd, "keytab"))
		rc = cmd_keytab(&c, argc - 1, argv + 1);
	else if (!strcmp(cmd, "ads"))
		rc = cmd_ads(&c, argc - 1, argv + 1);
	else if (!strcmp(cmd, "krb5conf"))
		rc = cmd_krb5conf(&c, argc - 1, argv + 1);
	else if (!strcmp(cmd, "pam"))
		rc = cmd_pam(&c, argc - 1, argv + 1);
	else if (ssh_keys)
		rc = cmd_ssh_keys(&c, argc - 1, argv + 1);
	else if (!strcmp(cmd, "sessions") && argc == 1)
		rc = cmd_sessions(&c);
	else if (!strcmp(cmd, "cache"))
		rc = cmd_cache(&c, argc - 1, argv + 1);
	else if ((!strcmp(cmd, "user") || !strcmp(cmd, "group")) && argc == 2)
		rc = cmd_show(&c, cmd[0] == 'u', argv[1]);
	else if ((!strcmp(cmd, "users") || !strcmp(cmd, "groups")) && argc == 1)
		rc = cmd_list(&c, cmd[0] == 'u' && cmd[4] == 's');
	else
		usage(stderr);
	dir_config_free(&c.cfg);
	return rc;
}
