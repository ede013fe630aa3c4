/* SIDs from the wire and from people, AD names and id mapping (libcommon/sid.c, ad_names.c,
 * idmap.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ad_names.h"
#include "config.h"
#include "idmap.h"
#include "run_case.h"
#include "sid.h"

/* S-1-5-21-1111111111-2222222222-3333333333-1104 as AD sends it in objectSid */
static const uint8_t alice_sid[] = {
	1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0xc7, 0x35, 0x3a, 0x42, 0x8e, 0x6b, 0x74, 0x84,
	0x55, 0xa1, 0xae, 0xc6, 0x50, 0x04, 0, 0,
};

START_TEST(binary_sid_round_trip)
{
	struct sid s;
	char text[SID_MAX_STRING];
	ck_assert_int_eq(sid_from_binary(alice_sid, sizeof(alice_sid), &s), 0);
	sid_to_string(&s, text, sizeof(text));
	ck_assert_str_eq(text, "S-1-5-21-1111111111-2222222222-3333333333-1104");
	uint8_t bin[SID_MAX_BINARY];
	ck_assert_uint_eq(sid_to_binary(&s, bin), sizeof(alice_sid));
	ck_assert_mem_eq(bin, alice_sid, sizeof(alice_sid));
	char value[3 * SID_MAX_BINARY + 1];
	sid_filter_value(&s, value, sizeof(value));
	ck_assert_str_eq(value, "\\01\\05\\00\\00\\00\\00\\00\\05\\15\\00\\00\\00\\c7\\35\\3a\\42"
				"\\8e\\6b\\74\\84\\55\\a1\\ae\\c6\\50\\04\\00\\00");
	struct sid domain, back;
	uint32_t rid;
	ck_assert(sid_split_rid(&s, &domain, &rid));
	ck_assert_uint_eq(rid, 1104);
	sid_to_string(&domain, text, sizeof(text));
	ck_assert_str_eq(text, "S-1-5-21-1111111111-2222222222-3333333333");
	ck_assert(sid_append_rid(&domain, 1104, &back));
	ck_assert(sid_equal(&back, &s));
	ck_assert(!sid_is_builtin(&s));
}
END_TEST

/* The nslcd bug: a sub-authority count that promises more bytes than there are. */
START_TEST(bad_binary_sids_are_refused)
{
	struct sid s;
	uint8_t buf[sizeof(alice_sid) + 8];
	memcpy(buf, alice_sid, sizeof(alice_sid));
	ck_assert_int_eq(sid_from_binary(buf, 0, &s), -1);
	ck_assert_int_eq(sid_from_binary(NULL, 8, &s), -1);
	ck_assert_int_eq(sid_from_binary(buf, 7, &s), -1);
	ck_assert_int_eq(sid_from_binary(buf, sizeof(alice_sid) - 1, &s), -1); /* truncated */
	ck_assert_int_eq(sid_from_binary(buf, sizeof(alice_sid) + 4, &s), -1); /* trailing bytes */
	buf[1] = 255; /* count far past the end */
	ck_assert_int_eq(sid_from_binary(buf, sizeof(alice_sid), &s), -1);
	buf[1] = 16; /* more than MS-DTYP allows, even with the bytes there */
	ck_assert_int_eq(sid_from_binary(buf, 8 + 64, &s), -1);
	buf[1] = 5;
	buf[0] = 2; /* revision */
	ck_assert_int_eq(sid_from_binary(buf, sizeof(alice_sid), &s), -1);
	uint8_t none[8] = { 1, 0, 0, 0, 0, 0, 0, 5 };
	ck_assert_int_eq(sid_from_binary(none, 8, &s), 0); /* S-1-5: legal, but no account's */
	uint32_t rid;
	ck_assert(!sid_split_rid(&s, NULL, &rid));
}
END_TEST

START_TEST(sid_strings)
{
	struct sid s;
	char text[SID_MAX_STRING];
	ck_assert_int_eq(sid_from_string("S-1-5-32-544", &s), 0);
	ck_assert(sid_is_builtin(&s));
	uint32_t rid;
	ck_assert(!sid_split_rid(&s, NULL, &rid)); /* BUILTIN is not a domain account */
	ck_assert_int_eq(sid_from_string("s-1-5-21-1-2-3-4294967295", &s), 0);
	sid_to_string(&s, text, sizeof(text));
	ck_assert_str_eq(text, "S-1-5-21-1-2-3-4294967295");
	ck_assert_int_eq(sid_from_string("S-1-281474976710655-1", &s), 0);
	const char *bad[] = { "", "S", "S-", "S-1", "S-1-", "S-2-5-21", "S-1-5-21-", "S-1-5--1",
			      "S-1-5-21-4294967296", "S-1-281474976710656-1", "S-1-5-21-+1",
			      "S-1-5-21-1 ", "X-1-5-21", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
			      "S-01-5-21", "S-1-5-21-99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sid_from_string(bad[i], &s) == -1, "accepted '%s'", bad[i]);
	ck_assert_int_eq(sid_from_string("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15", &s), 0);
	struct sid out;
	ck_assert(!sid_append_rid(&s, 1, &out)); /* already 15 */
	sid_to_string(&s, text, sizeof(text));
	ck_assert_str_eq(text, "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15");
}
END_TEST

static struct dir_domain domains[2];
static struct dir_config cfg = { .domains = domains, .n_domains = 2 };

static void setup(void)
{
	memset(domains, 0, sizeof(domains));
	domains[0] = (struct dir_domain){ .name = "corp", .type = DIR_DOMAIN_LDAP };
	domains[1] = (struct dir_domain){ .name = "ad", .type = DIR_DOMAIN_AD, .realm = "AD.TEST",
					  .workgroup = "ADTEST", .idmap_low = 100000001,
					  .idmap_high = 200000000 };
}

START_TEST(names_split)
{
	char name[64];
	size_t d = 99;
	ck_assert_int_eq(ad_name_canonical(&cfg, "adtest\\Alice", &d, name, sizeof(name)), NAME_QUALIFIED);
	ck_assert_uint_eq(d, 1);
	ck_assert_str_eq(name, "ADTEST\\Alice");
	ck_assert_int_eq(ad_name_canonical(&cfg, "alice@ad.TEST", &d, name, sizeof(name)), NAME_QUALIFIED);
	ck_assert_str_eq(name, "ADTEST\\alice");
	ck_assert_int_eq(ad_name_canonical(&cfg, "alice", &d, name, sizeof(name)), NAME_BARE);
	ck_assert_str_eq(name, "alice");
	ck_assert_int_eq(ad_name_canonical(&cfg, "OTHER\\alice", &d, name, sizeof(name)), NAME_BARE);
	ck_assert_str_eq(name, "OTHER\\alice");
	ck_assert_int_eq(ad_name_canonical(&cfg, "alice@other.test", &d, name, sizeof(name)), NAME_BARE);
	ck_assert_int_eq(ad_name_canonical(&cfg, "ADTEST\\", &d, name, sizeof(name)), -1);
	ck_assert_int_eq(ad_name_canonical(&cfg, "@ad.test", &d, name, sizeof(name)), -1);
	ck_assert_int_eq(ad_name_canonical(&cfg, "ADTEST\\a-name-longer-than-the-buffer-is-long-for-sure-"
					      "yes-really-much-longer", &d, name, sizeof(name)), -1);
	domains[1].use_default_domain = true;
	ck_assert_int_eq(ad_name_canonical(&cfg, "Alice@AD.TEST", &d, name, sizeof(name)), NAME_QUALIFIED);
	ck_assert_str_eq(name, "Alice"); /* served bare */
	domains[1].use_default_domain = false;
	char served[64];
	ck_assert_int_eq(ad_name_served(&domains[1], "alice", served, sizeof(served)), 0);
	ck_assert_str_eq(served, "ADTEST\\alice");
	domains[1].use_default_domain = true;
	ck_assert_int_eq(ad_name_served(&domains[1], "alice", served, sizeof(served)), 0);
	ck_assert_str_eq(served, "alice");
	ck_assert_int_eq(ad_name_served(&domains[1], "alice", served, 5), -1);
}
END_TEST

START_TEST(domains_asked)
{
	ck_assert(ad_name_domain_takes(&cfg, 0, NAME_BARE, 0));
	ck_assert(!ad_name_domain_takes(&cfg, 1, NAME_BARE, 0));
	ck_assert(!ad_name_domain_takes(&cfg, 0, NAME_QUALIFIED, 1));
	ck_assert(ad_name_domain_takes(&cfg, 1, NAME_QUALIFIED, 1));
	domains[1].use_default_domain = true;
	ck_assert(ad_name_domain_takes(&cfg, 1, NAME_BARE, 0));
	ck_assert(idmap_domain_takes_id(&domains[0], 5000));
	ck_assert(!idmap_domain_takes_id(&domains[1], 5000));
	ck_assert(idmap_domain_takes_id(&domains[1], 100000001));
	ck_assert(idmap_domain_takes_id(&domains[1], 200000000));
	ck_assert(!idmap_domain_takes_id(&domains[1], 200000001));
}
END_TEST

START_TEST(rid_mapping)
{
	uint32_t id, rid;
	ck_assert(idmap_rid_to_id(&domains[1], 513, &id));
	ck_assert_uint_eq(id, 100000514);
	ck_assert(idmap_rid_to_id(&domains[1], 99999999, &id));
	ck_assert_uint_eq(id, 200000000);
	ck_assert(!idmap_rid_to_id(&domains[1], 100000000, &id));
	ck_assert(!idmap_rid_to_id(&domains[1], UINT32_MAX, &id)); /* no wrap-around */
	ck_assert(idmap_id_to_rid(&domains[1], 100001104, &rid));
	ck_assert_uint_eq(rid, 1103);
	ck_assert(!idmap_id_to_rid(&domains[1], 100000000, &rid));
	ck_assert(!idmap_id_to_rid(&domains[1], 200000001, &rid));
}
END_TEST

START_TEST(records_answer_names)
{
	ck_assert(dir_name_answers("alice", "alice"));
	ck_assert(dir_name_answers("ALICE", "alice")); /* use_default_domain, another case */
	ck_assert(dir_name_answers("adtest\\ALICE", "ADTEST\\alice"));
	ck_assert(dir_name_answers("alice@ad.test", "ADTEST\\alice"));
	ck_assert(dir_name_answers("ADTEST\\alice", "alice")); /* use_default_domain */
	ck_assert(!dir_name_answers("alice", "ADTEST\\alice"));
	ck_assert(!dir_name_answers("OTHER\\alice", "ADTEST\\alice"));
	ck_assert(!dir_name_answers("ADTEST\\alic", "ADTEST\\alice"));
	ck_assert(!dir_name_answers("ADTEST\\bob", "ADTEST\\alice"));
	ck_assert(!dir_name_answers("bob@ad.test", "ADTEST\\alice"));
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		binary_sid_round_trip, bad_binary_sids_are_refused, sid_strings, names_split, domains_asked,
		rid_mapping, records_answer_names, NULL
	};
	return run_tests("ad", setup, NULL, tests);
}
