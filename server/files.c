/* files.c: the front-end's files, read once into memory and served from it.
 *
 * The web folder is a handful of small files (pages, scripts, styles).
 * Reading them at start means no file system access per request (nothing
 * blocks the loop) and no path ever reaches the file system: a request
 * can only name a file that is in the table.
 */
#define _GNU_SOURCE /* nftw() with FTW_ACTIONRETVAL */
#include "files.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILES_MAX       1000
#define FILES_BYTES_MAX (32 * 1024 * 1024)

struct files {
	struct file *list; /* sorted by path */
	size_t count, cap, bytes;
};

/* Content types by file name extension. */
static const struct {
	const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".txt", "text/plain; charset=utf-8"},
};

/* The Content-Type for a file name. */
static const char *
type_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* Read all of path (size bytes expected) into a new buffer; NULL on error. */
static char *
read_whole(const char *path, size_t size)
{
	char *buf = malloc(size ? size : 1);
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf)
		goto fail;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		got += (size_t)n;
	}
	close(fd);
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* nftw() passes no argument: the set being filled and its root. */
static struct files *loading;
static size_t root_len;

/* One entry of the walk: keep regular files, skip dot-names. */
static int
visit(const char *path, const struct stat *st, int kind, struct FTW *ftw)
{
	const char *name = path + ftw->base;
	struct file *f;

	if (name[0] == '.' && ftw->level > 0)
		return kind == FTW_D ? FTW_SKIP_SUBTREE : 0;
	if (kind != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if (loading->count == FILES_MAX ||
	    loading->bytes + (size_t)st->st_size > FILES_BYTES_MAX) {
		log_warn("%s: more than %d files or %d bytes: not served", path,
		         FILES_MAX, FILES_BYTES_MAX);
		return 0;
	}
	if (loading->count == loading->cap) {
		size_t cap = loading->cap ? 2 * loading->cap : 16;
		struct file *l = realloc(loading->list, cap * sizeof(*l));

		if (!l)
			return -1;
		loading->list = l;
		loading->cap = cap;
	}
	f = &loading->list[loading->count];
	f->len = (size_t)st->st_size;
	f->body = read_whole(path, f->len);
	f->path = strdup(path + root_len);
	f->type = type_of(name);
	if (!f->body || !f->path) {
		log_warn("cannot read %s: not served", path);
		free(f->body);
		free(f->path);
		return 0;
	}
	loading->count++;
	loading->bytes += f->len;
	return 0;
}

static int
by_path(const void *a, const void *b)
{
	return strcmp(((const struct file *)a)->path,
	              ((const struct file *)b)->path);
}

struct files *
files_load(const char *dir)
{
	struct files *fs = calloc(1, sizeof(*fs));
	size_t len = strlen(dir);

	if (!fs)
		return NULL;
	while (len > 1 && dir[len - 1] == '/')
		len--;
	loading = fs;
	root_len = len;
	if (nftw(dir, visit, 16, FTW_PHYS | FTW_ACTIONRETVAL) == -1 &&
	    errno == ENOMEM) {
		loading = NULL;
		files_free(fs);
		return NULL;
	}
	loading = NULL;
	qsort(fs->list, fs->count, sizeof(*fs->list), by_path);
	return fs;
}

void
files_free(struct files *fs)
{
	if (!fs)
		return;
	for (size_t i = 0; i < fs->count; i++) {
		free(fs->list[i].path);
		free(fs->list[i].body);
	}
	free(fs->list);
	free(fs);
}

size_t
files_count(const struct files *fs)
{
	return fs ? fs->count : 0;
}

const struct file *
files_find(const struct files *fs, const char *path)
{
	char index[1024];
	struct file key;
	size_t len = strlen(path);

	if (!fs || !fs->count)
		return NULL;
	if (len && path[len - 1] == '/') {
		if (len + sizeof("index.html") > sizeof(index))
			return NULL;
		snprintf(index, sizeof(index), "%sindex.html", path);
		path = index;
	}
	key.path = (char *)path;
	return bsearch(&key, fs->list, fs->count, sizeof(*fs->list), by_path);
}
