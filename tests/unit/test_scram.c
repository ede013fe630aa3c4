/* SCRAM (apikey/scram.c) against RFC 7677's test vector, malformed messages, base64; the API
 * key store (apikey/keystore.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keystore.h"
#include "run_case.h"
#include "scram.h"

/* RFC 7677 section 3: user "user", password "pencil", SCRAM-SHA-256. */
#define CLIENT_FIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define SERVER_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define SERVER_FIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define CLIENT_FINAL "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
		     "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static void rfc7677_server(struct scram_server *s, struct scram_client_first *cf, char *first)
{
	unsigned char salt[32];
	int n = scram_b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof(salt));
	ck_assert_int_eq(n, 16);
	memset(s, 0, sizeof(*s));
	s->md = EVP_sha256();
	ck_assert_int_eq(scram_derive(s->md, "pencil", salt, (size_t)n, 4096, &s->keys), 0);
	ck_assert_int_eq(scram_parse_client_first(CLIENT_FIRST, cf), 0);
	ck_assert_int_eq(scram_server_first(s, cf, SERVER_NONCE, salt, (size_t)n, 4096, first), 0);
}

START_TEST(rfc7677_vector)
{
	struct scram_server s;
	struct scram_client_first cf;
	char first[SCRAM_MAX_MESSAGE], final[SCRAM_MAX_MESSAGE];
	rfc7677_server(&s, &cf, first);
	ck_assert_str_eq(cf.name, "user");
	ck_assert_str_eq(cf.gs2, "n,,");
	ck_assert_str_eq(first, SERVER_FIRST);
	ck_assert_int_eq(scram_server_final(&s, &cf, CLIENT_FINAL, NULL, 0, final), 0);
	ck_assert_str_eq(final, SERVER_FINAL);
}
END_TEST

START_TEST(wrong_final_messages)
{
	static const char *const bad[] = {
		/* another proof, another nonce, a replay of another exchange's nonce */
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=x",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"c=biws,r=rOprNGfwEbeRWgbNEkqOother,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		/* binding for another header, no binding, proof not last, truncated, empty */
		"c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		"c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgs",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
		"",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,m=x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct scram_server s;
		struct scram_client_first cf;
		char first[SCRAM_MAX_MESSAGE], final[SCRAM_MAX_MESSAGE];
		rfc7677_server(&s, &cf, first);
		ck_assert_msg(scram_server_final(&s, &cf, bad[i], NULL, 0, final) == -1, "accepted %zu", i);
	}
}
END_TEST

START_TEST(client_first_messages)
{
	struct scram_client_first cf;
	ck_assert_int_eq(scram_parse_client_first("y,,n=a=2Cb=3Dc,r=abc,x=ext", &cf), 0);
	ck_assert_str_eq(cf.name, "a,b=c");
	ck_assert_str_eq(cf.nonce, "abc");
	ck_assert_int_eq(scram_parse_client_first("p=tls-server-end-point,,n=7,r=x", &cf), 0);
	ck_assert(cf.channel_binding);
	ck_assert_str_eq(cf.gs2, "p=tls-server-end-point,,");
	static const char *const bad[] = {
		"", "n", "n,", "n,,", "n,,n=,r=x", "n,,n=u", "n,,n=u,r=", "n,,r=x,n=u", "x,,n=u,r=x",
		"n,a=admin,n=u,r=x", "p=tls-unique,,n=u,r=x", "n,,n=u=2,r=x", "n,,n=u=41,r=x",
		"n,,n=u,r=a,b", "n,,n=u,r=x,m=mandatory", "n,,n=u,r=x,1=y", "n,,n=u\x01,r=x",
		"n,,n=u,r=x y",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(scram_parse_client_first(bad[i], &cf) == -1, "accepted '%s'", bad[i]);
	char *big = malloc(SCRAM_MAX_MESSAGE + 10);
	memset(big, 'a', SCRAM_MAX_MESSAGE + 9);
	memcpy(big, "n,,n=u,r=", 9);
	big[SCRAM_MAX_MESSAGE + 9] = '\0';
	ck_assert_int_eq(scram_parse_client_first(big, &cf), -1);
	free(big);
}
END_TEST

START_TEST(base64)
{
	unsigned char out[16];
	char text[32];
	ck_assert_int_eq(scram_b64_decode("biws", 4, out, sizeof(out)), 3);
	ck_assert_mem_eq(out, "n,,", 3);
	ck_assert_int_eq(scram_b64_decode("YQ==", 4, out, sizeof(out)), 1);
	ck_assert_int_eq(scram_b64_decode("YWI=", 4, out, sizeof(out)), 2);
	const char *bad[] = { "Y", "YQ=", "Y===", "YQ=a", "=QQQ", "YR==", "YQ==YQ==", "biw!", "bi ws" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(scram_b64_decode(bad[i], strlen(bad[i]), out, sizeof(out)) == -1, "%s", bad[i]);
	ck_assert_int_eq(scram_b64_decode("YWJjZA==", 8, out, 3), -1); /* does not fit */
	ck_assert_int_eq(scram_b64_encode((const unsigned char *)"abcd", 4, text, sizeof(text)), 0);
	ck_assert_str_eq(text, "YWJjZA==");
	ck_assert_int_eq(scram_b64_encode((const unsigned char *)"abcd", 4, text, 8), -1);
}
END_TEST

static char dir[] = "/tmp/dir-test-apikey-XXXXXX";

static void seen(const struct apikey *k, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);
	snprintf(out + n, 256 - n, "%u:%s:%s:%d ", k->id, k->user, k->name, k->revoked);
}

START_TEST(key_store)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char state[128], err[256], secret[APIKEY_SECRET_LEN + 1];
	snprintf(state, sizeof(state), "%s/state", dir);
	struct apikey k = { .iterations = APIKEY_MIN_ITERATIONS }, got;
	snprintf(k.user, sizeof(k.user), "alice");
	snprintf(k.name, sizeof(k.name), "backup");
	ck_assert_int_eq(apikey_get(state, 1, &got, err, sizeof(err)), 0); /* no store yet */
	ck_assert_msg(apikey_create(state, &k, secret, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(k.id, 1);
	ck_assert_uint_eq(strlen(secret), APIKEY_SECRET_LEN);
	for (const char *p = secret; *p; p++)
		ck_assert((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'));
	ck_assert_int_eq(apikey_create(state, &k, secret, err, sizeof(err)), 0);
	ck_assert_uint_eq(k.id, 2);
	ck_assert_int_eq(apikey_get(state, 2, &got, err, sizeof(err)), 1);
	ck_assert_str_eq(got.user, "alice");
	ck_assert_uint_eq(got.iterations, APIKEY_MIN_ITERATIONS);
	struct scram_keys again;
	ck_assert_int_eq(scram_derive(EVP_sha512(), secret, got.salt, sizeof(got.salt), got.iterations, &again), 0);
	ck_assert_mem_eq(again.server, got.keys.server, 64);
	/* An id with no key: a decoy, the same each time, with the newest key's iterations. */
	struct apikey d1, d2, d3;
	ck_assert_int_eq(apikey_lookup(state, 99, &d1, err, sizeof(err)), 0);
	ck_assert_int_eq(apikey_lookup(state, 99, &d2, err, sizeof(err)), 0);
	ck_assert_int_eq(apikey_lookup(state, 98, &d3, err, sizeof(err)), 0);
	ck_assert_mem_eq(d1.salt, d2.salt, sizeof(d1.salt));
	ck_assert(memcmp(d1.salt, d3.salt, sizeof(d1.salt)) != 0);
	ck_assert_uint_eq(d1.iterations, APIKEY_MIN_ITERATIONS);
	ck_assert_int_eq(apikey_lookup(state, 2, &d1, err, sizeof(err)), 1);
	ck_assert_mem_eq(d1.salt, got.salt, sizeof(got.salt));
	ck_assert_int_eq(apikey_revoke(state, 1, err, sizeof(err)), 1);
	ck_assert_int_eq(apikey_revoke(state, 9, err, sizeof(err)), 0);
	char list[256] = "";
	ck_assert_int_eq(apikey_list(state, seen, list, err, sizeof(err)), 0);
	ck_assert_str_eq(list, "1:alice:backup:1 2:alice:backup:0 ");
	/* nothing of the secret is in the file */
	char path[256], cmd[512];
	apikey_store_path(state, path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "grep -q '%s' '%s'", secret, path);
	ck_assert_int_ne(system(cmd), 0);
	struct stat st;
	ck_assert_int_eq(stat(state, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	chmod(path, 0644); /* readable by others: refused */
	ck_assert_int_eq(apikey_get(state, 2, &got, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "refused"));
	k.iterations = 10;
	ck_assert_int_eq(apikey_create(state, &k, secret, err, sizeof(err)), -1);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(key_shapes)
{
	uint32_t id;
	const char *secret;
	ck_assert_int_eq(apikey_split("12-abc", &id, &secret), 0);
	ck_assert_uint_eq(id, 12);
	ck_assert_str_eq(secret, "abc");
	const char *bad[] = { "", "-abc", "abc", "0-abc", "01-abc", "x1-abc", "99999999999-a",
			      "4294967296-a", " 1-abc", "+1-abc" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(apikey_split(bad[i], &id, &secret) == -1, "%s", bad[i]);
	ck_assert_int_eq(apikey_parse_id("4294967295", 10, &id), 0);
	ck_assert_uint_eq(id, 4294967295u);
	ck_assert_int_eq(apikey_parse_id("12x", 2, &id), 0); /* only len bytes are read */
	ck_assert_uint_eq(id, 12);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		rfc7677_vector, wrong_final_messages, client_first_messages, base64, key_store, key_shapes, NULL
	};
	return run_tests("scram", NULL, NULL, tests);
}
