/* dirctl apikey add USER [--name N] [--expires DATE] [--iterations N] | list [USER] | revoke ID:
 * API keys for the truenas-api-key PAM service (pam_dir.so apikey), in the root-only store in
 * state_dir.  A key is printed once, "<id>-<secret>"; only its SCRAM-SHA-512 material is kept. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "dirctl.h"
#include "keystore.h"
#include "names.h"

static int usage(void)
{
	fprintf(stderr, "Usage: dirctl apikey add USER [--name NAME] [--expires YYYY-MM-DD[THH:MM:SS]] "
			"[--iterations N]\n"
			"       dirctl [--json] apikey list [USER]\n"
			"       dirctl apikey revoke ID\n");
	return EXIT_USAGE;
}

/* A date (UTC): YYYY-MM-DD (its midnight) or YYYY-MM-DDTHH:MM:SS; -1 when it is not one,
 * 2026-02-31 and 24:00:00 included (timegm would quietly make them another day). */
static long long parse_date(const char *s)
{
	static const char *const formats[] = { "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d" };
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct tm tm = { 0 }, back;
		const char *end = strptime(s, formats[i], &tm);
		if (!end || (*end && strcmp(end, "Z")))
			continue;
		struct tm asked = tm; /* timegm normalizes tm itself */
		time_t t = timegm(&asked);
		if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_year != tm.tm_year ||
		    back.tm_mon != tm.tm_mon || back.tm_mday != tm.tm_mday || back.tm_hour != tm.tm_hour ||
		    back.tm_min != tm.tm_min || back.tm_sec != tm.tm_sec)
			return -1;
		return (long long)t;
	}
	return -1;
}

static int need_root(void)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "dirctl: the API key store is root's alone; run it with sudo\n");
	return -1;
}

static int add_key(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = { { "name", required_argument, NULL, 'n' },
					      { "expires", required_argument, NULL, 'e' },
					      { "iterations", required_argument, NULL, 'i' },
					      { NULL, 0, NULL, 0 } };
	struct apikey k = { .iterations = APIKEY_DEFAULT_ITERATIONS };
	int opt;
	optind = 0; /* 0, not 1: glibc starts over, permutation state included */
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) { /* options anywhere */
		char *end;
		long long when;
		unsigned long n;
		switch (opt) {
		case 'n':
			if (strlen(optarg) >= sizeof(k.name) || strpbrk(optarg, "\n\t")) {
				fprintf(stderr, "dirctl: a name of at most %zu characters, on one line\n",
					sizeof(k.name) - 1);
				return EXIT_USAGE;
			}
			snprintf(k.name, sizeof(k.name), "%s", optarg);
			break;
		case 'e':
			if ((when = parse_date(optarg)) <= 0) {
				fprintf(stderr, "dirctl: '%s' is not a date (YYYY-MM-DD or "
						"YYYY-MM-DDTHH:MM:SS, UTC)\n", optarg);
				return EXIT_USAGE;
			}
			k.expires = (uint64_t)when;
			break;
		case 'i':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || optarg[0] == '-' || n < APIKEY_MIN_ITERATIONS ||
			    n > APIKEY_MAX_ITERATIONS) {
				fprintf(stderr, "dirctl: --iterations from %d to %d\n",
					APIKEY_MIN_ITERATIONS, APIKEY_MAX_ITERATIONS);
				return EXIT_USAGE;
			}
			k.iterations = (unsigned)n;
			break;
		default:
			return usage();
		}
	}
	if (optind + 1 != argc)
		return usage();
	const char *user = argv[optind];
	/* A local or a directory user, as the PAM stack will see it. */
	struct passwd *pw = dir_valid_name(user) ? getpwnam(user) : NULL;
	if (!pw) {
		fprintf(stderr, "dirctl: no user '%s'\n", user);
		return EXIT_NOT_FOUND;
	}
	if (need_root() < 0)
		return EXIT_FAIL;
	snprintf(k.user, sizeof(k.user), "%s", pw->pw_name);
	char secret[APIKEY_SECRET_LEN + 1], err[512];
	if (apikey_create(c->cfg.state_dir, &k, secret, err, sizeof(err)) < 0) {
		fprintf(stderr, "dirctl: %s\n", err);
		return EXIT_FAIL;
	}
	printf("%" PRIu32 "-%s\n", k.id, secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(&k.keys, sizeof(k.keys));
	fprintf(stderr, "API key %" PRIu32 " for %s%s: shown this once; only a SCRAM-SHA-512 "
			"verifier of it is kept\n", k.id, k.user,
		k.expires && k.expires <= (uint64_t)time(NULL) ? " (already expired)" : "");
	return EXIT_OK;
}

struct listing {
	const char *user;
	bool json;
	json_object *array;
	unsigned shown;
};

static void show(const struct apikey *k, void *arg)
{
	struct listing *l = arg;
	if (l->user && strcmp(l->user, k->user))
		return;
	char created[32], expires[32];
	ctl_format_utc((long long)k->created, created, sizeof(created));
	ctl_format_utc((long long)k->expires, expires, sizeof(expires));
	const char *state = k->revoked ? "revoked" :
			    k->expires && k->expires <= (uint64_t)time(NULL) ? "expired" : "active";
	l->shown++;
	if (!l->json) {
		printf("%-6" PRIu32 " %-20s %-20s %-20s %-20s %s\n", k->id, k->user,
		       *k->name ? k->name : "-", created, expires, state);
		return;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(k->id));
	json_object_object_add(o, "user", json_object_new_string(k->user));
	json_object_object_add(o, "name", json_object_new_string(k->name));
	json_object_object_add(o, "created", json_object_new_int64((int64_t)k->created));
	json_object_object_add(o, "expires", k->expires ? json_object_new_int64((int64_t)k->expires) : NULL);
	json_object_object_add(o, "revoked", json_object_new_boolean(k->revoked));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "iterations", json_object_new_int64(k->iterations));
	json_object_array_add(l->array, o);
}

static int list_keys(struct ctl *c, int argc, char **argv)
{
	if (argc > 2)
		return usage();
	if (need_root() < 0)
		return EXIT_FAIL;
	struct listing l = { argc == 2 ? argv[1] : NULL, c->json, json_object_new_array(), 0 };
	char err[512];
	if (!c->json)
		printf("%-6s %-20s %-20s %-20s %-20s %s\n", "ID", "USER", "NAME", "CREATED", "EXPIRES",
		       "STATE");
	int rc = apikey_list(c->cfg.state_dir, show, &l, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "dirctl: %s\n", err);
	else if (c->json)
		printf("%s\n", json_object_to_json_string_ext(l.array, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(l.array);
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}

static int revoke_key(struct ctl *c, int argc, char **argv)
{
	char err[512];
	uint32_t id;
	if (argc != 2)
		return usage();
	if (apikey_parse_id(argv[1], strlen(argv[1]), &id) < 0) {
		fprintf(stderr, "dirctl: '%s' is not a key id\n", argv[1]);
		return EXIT_USAGE;
	}
	if (need_root() < 0)
		return EXIT_FAIL;
	int rc = apikey_revoke(c->cfg.state_dir, id, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "dirctl: %s\n", err);
	else if (rc == 0)
		fprintf(stderr, "dirctl: no API key %" PRIu32 "\n", id);
	else
		printf("API key %" PRIu32 " revoked\n", id);
	return rc < 0 ? EXIT_FAIL : rc == 0 ? EXIT_NOT_FOUND : EXIT_OK;
}

int cmd_apikey(struct ctl *c, int argc, char **argv)
{
	if (argc < 1)
		return usage();
	if (!strcmp(argv[0], "add"))
		return add_key(c, argc, argv);
	if (!strcmp(argv[0], "list"))
		return list_keys(c, argc, argv);
	if (!strcmp(argv[0], "revoke"))
		return revoke_key(c, argc, argv);
	return usage();
}
