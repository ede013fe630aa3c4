/* What counts as an SSH public key from the directory (directory/ssh_key.c). */
#include <check.h>
#include <string.h>

#include "record.h"
#include "run_case.h"
#include "ssh_key.h"

#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEu9gfCeaG5ClGTo1F2VTazjP/5dxutu5OuG/Arrn2z4"
#define RSA "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDMx00MWcJB1Xc+DZS+X99w95X1XI2SYHsnwB4LhX+qGuiVcr9t" \
	    "SiM7kLQPH0oahsGgWcpAM+AhrM0V/CgopiJrYUNFlhOn7dfiUdBJt1j6DFoWZlA8WsSvQeW3Z1CUUxUobLmgHEk3" \
	    "ztVhWw4Tz3k++/W4MrRWvA8zgWm2N5SWdQ=="

static const char *check_line(const char *line)
{
	return ssh_key_check(line, strlen(line));
}

static const char *const good[] = {
	ED25519,
	ED25519 " alice@example",
	ED25519 "\talice's laptop (2026)",
	RSA,
	"from=\"10.0.0.0/8\",no-pty " ED25519 " alice",
	"command=\"echo one two\",no-port-forwarding " ED25519,
	"restrict,command=\"say \\\"hi there\\\"\" " RSA " c",
};

START_TEST(good_keys)
{
	ck_assert_msg(check_line(good[_i]) == NULL, "%s: %s", good[_i], check_line(good[_i]));
}
END_TEST

static const char *const bad[] = {
	"",
	"ssh-ed25519",
	"ssh-ed25519 ",
	"AAAAC3NzaC1lZDI1NTE5AAAAIEu9gfCeaG5ClGTo1F2VTazjP/5dxutu5OuG/Arrn2z4",
	"ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIEu9gfCeaG5ClGTo1F2VTazjP/5dxutu5OuG/Arrn2z4", /* not rsa */
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEu9gfCeaG5ClGTo1F2VTazjP/5dxutu5OuG/Arrn2z", /* cut */
	"ssh-ed25519 AAAA!!!!",
	"ssh-ed25519 AAAA",
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEu9gfCeaG5ClGTo1F2VTazjP/5d", /* cut, still base64 */
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", /* the type alone */
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEu9gfCeaG5ClGTo1F2VTazjP/5dxutu5OuG/Arrn2z4 a\x01b",
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEu9gfCeaG5ClGTo1F2VTazjP/5dxutu5OuG/Arrn2z4\r",
	"from=\"10.0.0.0/8\"",
	"command=\"unclosed " ED25519,
	"no-pty,from=x junk " ED25519,
	"-----BEGIN OPENSSH PRIVATE KEY-----",
};

START_TEST(bad_keys)
{
	ck_assert_msg(check_line(bad[_i]) != NULL, "taken: %s", bad[_i]);
}
END_TEST

START_TEST(too_long)
{
	static char line[DIR_MAX_SSH_KEY_LEN + 2];
	memset(line, 'A', sizeof(line) - 1);
	memcpy(line, ED25519 " ", strlen(ED25519) + 1);
	ck_assert_ptr_nonnull(ssh_key_check(line, strlen(line)));
	ck_assert_ptr_null(ssh_key_check(line, DIR_MAX_SSH_KEY_LEN - 10)); /* a long comment */
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { too_long, NULL };
	TCase *tc = test_case("ssh_key", NULL, NULL, tests);
	tcase_add_loop_test(tc, good_keys, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, bad_keys, 0, sizeof(bad) / sizeof(bad[0]));
	return run_case("ssh_key", tc);
}
