/* replay.c: run a fuzz target's entry point over saved inputs, no libFuzzer. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/*
 * Read the whole of path into a buffer of exactly its size (so a sanitizer
 * sees any read past the end); *len gets the size.  NULL on error.
 */
static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET))
		goto out;
	buf = malloc(n ? (size_t)n : 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

/* Run one file through the target; 0, or -1 if it cannot be read. */
static int
replay_file(const char *path)
{
	size_t len = 0;
	uint8_t *buf = read_file(path, &len);

	if (!buf) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (getenv("REPLAY_VERBOSE"))
		fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Replay every regular file in dir, in name order.  Returns how many ran,
 * or -1 if the directory or a file cannot be read.
 */
static int
replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	int ran = 0;

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			CHECK(names);
		}
		names[n] = strdup(e->d_name);
		CHECK(names[n++]);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!stat(path, &st) && S_ISREG(st.st_mode)) {
			if (ran >= 0)
				ran = replay_file(path) ? -1 : ran + 1;
		}
		free(names[i]);
	}
	free(names);
	return ran;
}

/*
 * replay FILE|DIR...: feed each file (each regular file of each directory)
 * to LLVMFuzzerTestOneInput once.  A broken invariant or a sanitizer
 * report ends the process; otherwise prints how many inputs ran and exits
 * 0, or 1 if something could not be read.
 */
int
main(int argc, char **argv)
{
	int total = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		int ran;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			        strerror(errno));
			return 1;
		}
		ran = S_ISDIR(st.st_mode) ? replay_dir(argv[i])
		                          : (replay_file(argv[i]) ? -1 : 1);
		if (ran < 0)
			return 1;
		total += ran;
	}
	printf("%d\n", total);
	return 0;
}
