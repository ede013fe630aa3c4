/* SCRAM messages from programs logging in with API keys (apikey/scram.c): the client's first
 * and final messages, and base64, over any bytes.  Nothing may be read past a message, and a
 * final message made of fuzz never proves anything. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "scram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg = fuzz_string(data, size);
	if (!msg)
		return 0;
	unsigned char out[SCRAM_MAX_MESSAGE];
	scram_b64_decode(msg, size, out, sizeof(out));

	/* The first line is client-first; the rest, client-final to a server that knows a key. */
	char *nl = strchr(msg, '\n');
	if (nl)
		*nl = '\0';
	struct scram_client_first cf;
	if (scram_parse_client_first(msg, &cf) == 0 && nl) {
		static const unsigned char salt[16] = "0123456789abcdef";
		struct scram_server s = { .md = EVP_sha512() };
		char first[SCRAM_MAX_MESSAGE], final[SCRAM_MAX_MESSAGE];
		/* Few iterations: the parser is what is fuzzed, not PBKDF2. */
		if (scram_derive(s.md, "secret", salt, sizeof(salt), 2, &s.keys) == 0 &&
		    scram_server_first(&s, &cf, "servernonce", salt, sizeof(salt), 2, first) == 0 &&
		    scram_server_final(&s, &cf, nl + 1, (const unsigned char *)"cb", 2, final) == 0)
			abort(); /* a proof made of fuzz verified: the check is broken */
	}
	free(msg);
	return 0;
}
