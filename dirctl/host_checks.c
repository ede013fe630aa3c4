/* What dirctl status checks on the host beside dird: the things that make directory users
 * invisible although dird serves them.  libnss_dir reads dird.conf in every process, so a file
 * that others cannot read leaves it on its defaults (another cache_dir: nobody's lookups find
 * nothing, silently); nsswitch.conf must name dir; nscd caches in front of every module. */
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "dirctl.h"
#include "fileutil.h"
#include "nsswitch.h"

#define NSSWITCH_CONF "/etc/nsswitch.conf"
#define MAX_NSSWITCH (1u << 20)

static void __attribute__((format(printf, 2, 3))) warn(json_object *warnings, const char *fmt, ...)
{
	char text[1536];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_object_array_add(warnings, json_object_new_string(text));
}

static void config_readable(const struct ctl *c, json_object *warnings)
{
	struct stat st;
	if (!c->cfg.path || stat(c->cfg.path, &st) < 0 || (st.st_mode & S_IROTH))
		return;
	warn(warnings, "%s is mode %04o: processes not run by root cannot read it, so libnss_dir "
	     "in them serves no directory user; chmod 644 it (passwords belong in "
	     "bind_password_file, mode 0600)", c->cfg.path, (unsigned)(st.st_mode & 07777));
}

/* Whether line, a database's line of nsswitch.conf, names the service dir. */
static bool names_dir(const char *line)
{
	const char *why = NULL;
	char *changed = nsswitch_change_line(line, true, false, &why);
	free(changed);
	return !changed && !why; /* nothing to add: it is there */
}

static void nsswitch_names_dir(json_object *warnings)
{
	char *text = NULL;
	size_t len = 0;
	if (file_read(NSSWITCH_CONF, MAX_NSSWITCH, &text, &len, NULL) < 0)
		return;
	bool passwd = false, group = false;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t n;
		const char *db = nsswitch_database(line, &n);
		if (db && n == 6 && !strncmp(db, "passwd", 6))
			passwd = names_dir(line);
		else if (db && n == 5 && !strncmp(db, "group", 5))
			group = names_dir(line);
	}
	free(text);
	if (!passwd || !group)
		warn(warnings, "%s: the %s line%s not name dir, so no program sees directory "
		     "accounts through it; dirctl enable puts it there", NSSWITCH_CONF,
		     !passwd && !group ? "passwd and group" : !passwd ? "passwd" : "group",
		     !passwd && !group ? "s do" : " does");
}

static void nscd_running(json_object *warnings)
{
	DIR *proc = opendir("/proc");
	if (!proc)
		return;
	for (struct dirent *e; (e = readdir(proc));) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		char path[300], comm[32] = "";
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		bool nscd = fgets(comm, sizeof(comm), f) && !strcmp(comm, "nscd\n");
		fclose(f);
		if (nscd) {
			warn(warnings, "nscd runs (pid %s): it caches passwd and group answers in front "
			     "of every module, so refreshes and flushes reach programs late; stop and "
			     "disable it", e->d_name);
			break;
		}
	}
	closedir(proc);
}

json_object *host_checks(const struct ctl *c)
{
	json_object *warnings = json_object_new_array();
	if (!warnings)
		return NULL;
	config_readable(c, warnings);
	nsswitch_names_dir(warnings);
	nscd_running(warnings);
	return warnings;
}
