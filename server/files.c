/* files.c: the front-end's files, read once into memory and served from it.
 *
 * The web folder is a handful of small files (pages, scripts, styles).
 * Reading them at start means no file system access per request (nothing
 * blocks the loop) and no path ever reaches the file system: a request
 * can only name a file that is in the table.  What each answer needs is
 * worked out here once too: a gzip copy of each text file, the ETags (a
 * hash of the bytes) and Last-Modified that caches revalidate with.
 */
#define _GNU_SOURCE /* nftw() with FTW_ACTIONRETVAL */
#include "files.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define FILES_MAX       1000
#define FILES_BYTES_MAX (32 * 1024 * 1024)

/*
 * How long browsers and CDNs may keep a file without asking again: pages
 * are asked for every time (a 304 when unchanged), scripts, styles and
 * the rest for 5 minutes, then revalidated (README: "Caching and
 * compression").
 */
#define CACHE_PAGE  "no-cache"
#define CACHE_ASSET "public, max-age=300, must-revalidate"

struct files {
	struct file *list; /* sorted by path */
	size_t count, cap, bytes;
	size_t gz_bytes, gz_of; /* the gzip copies' bytes, their originals' */
};

/* What a file name's extension says: its type, and how it is served. */
struct kind {
	const char *ext, *type;
	unsigned text : 1; /* compresses: a gzip copy is made */
	unsigned page : 1; /* CACHE_PAGE rather than CACHE_ASSET */
};

static const struct kind kinds[] = {
    {".html", "text/html; charset=utf-8", 1, 1},
    {".js", "text/javascript; charset=utf-8", 1, 0},
    {".mjs", "text/javascript; charset=utf-8", 1, 0},
    {".css", "text/css; charset=utf-8", 1, 0},
    {".json", "application/json", 1, 0},
    {".map", "application/json", 1, 0},
    {".webmanifest", "application/manifest+json", 1, 0},
    {".svg", "image/svg+xml", 1, 0},
    {".png", "image/png", 0, 0},
    {".jpg", "image/jpeg", 0, 0},
    {".jpeg", "image/jpeg", 0, 0},
    {".gif", "image/gif", 0, 0},
    {".webp", "image/webp", 0, 0},
    {".ico", "image/x-icon", 0, 0},
    {".woff2", "font/woff2", 0, 0},
    {".woff", "font/woff", 0, 0},
    {".txt", "text/plain; charset=utf-8", 1, 0},
};

static const struct kind unknown = {"", "application/octet-stream", 0, 0};

/* What a file name is (borrowed, static). */
static const struct kind *
kind_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcasecmp(dot, kinds[i].ext))
			return &kinds[i];
	return &unknown;
}

/*
 * body[0..len) gzipped (zlib, best compression; the same bytes each time
 * for the same input and zlib) into a new buffer, *gz_len its length.
 * NULL when it would not be smaller than the body, or on ENOMEM.
 */
static char *
gzip_copy(const char *body, size_t len, size_t *gz_len)
{
	z_stream z;
	char *gz = NULL, *fit;
	uLong cap;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip header and trailer around the deflate stream. */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9,
	                 Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&z, (uLong)len);
	gz = malloc(cap);
	if (!gz)
		goto done;
	z.next_in = (Bytef *)body;
	z.avail_in = (uInt)len; /* at most FILES_BYTES_MAX */
	z.next_out = (Bytef *)gz;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out >= len) {
		free(gz);
		gz = NULL;
		goto done;
	}
	*gz_len = z.total_out;
	fit = realloc(gz, *gz_len);
	if (fit)
		gz = fit;
done:
	deflateEnd(&z);
	return gz;
}

void
files_etag(const char *p, size_t len, const char *suffix,
           char out[FILES_ETAG_LEN])
{
	unsigned char md[20];

	lws_SHA1((const unsigned char *)p, len, md);
	snprintf(out, FILES_ETAG_LEN,
	         "\"%02x%02x%02x%02x%02x%02x%02x%02x%.3s\"", md[0], md[1],
	         md[2], md[3], md[4], md[5], md[6], md[7], suffix);
}

void
files_http_date(time_t t, char out[FILES_DATE_LEN])
{
	static const char days[] = "SunMonTueWedThuFriSat",
	                  months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;

	out[0] = '\0';
	if (!gmtime_r(&t, &tm) || tm.tm_year < 0 || tm.tm_year > 8099)
		return;
	if (snprintf(out, FILES_DATE_LEN,
	             "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT",
	             days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon,
	             tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	             tm.tm_sec) >= FILES_DATE_LEN)
		out[0] = '\0';
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

/* nftw() passes no argument: the set being filled, its root, the time. */
static struct files *loading;
static size_t root_len;
static time_t loaded_at;

/* One entry of the walk: keep regular files, skip dot-names. */
static int
visit(const char *path, const struct stat *st, int kind, struct FTW *ftw)
{
	const char *name = path + ftw->base;
	const struct kind *what;
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
	memset(f, 0, sizeof(*f));
	what = kind_of(name);
	f->len = (size_t)st->st_size;
	f->body = read_whole(path, f->len);
	f->path = strdup(path + root_len);
	f->type = what->type;
	f->cache = what->page ? CACHE_PAGE : CACHE_ASSET;
	if (!f->body || !f->path) {
		log_warn("cannot read %s: not served", path);
		free(f->body);
		free(f->path);
		return 0;
	}
	/* A date later than the answer's would be no date (RFC 9110 8.8.2). */
	f->mtime = st->st_mtime < loaded_at ? st->st_mtime : loaded_at;
	if (f->mtime < 0)
		f->mtime = 0;
	files_http_date(f->mtime, f->last_modified);
	files_etag(f->body, f->len, "", f->etag);
	if (what->text && (f->gz = gzip_copy(f->body, f->len, &f->gz_len))) {
		files_etag(f->gz, f->gz_len, "-gz", f->etag_gz);
		loading->gz_bytes += f->gz_len;
		loading->gz_of += f->len;
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
	loaded_at = time(NULL);
	if (nftw(dir, visit, 16, FTW_PHYS | FTW_ACTIONRETVAL) == -1 &&
	    errno == ENOMEM) {
		loading = NULL;
		files_free(fs);
		return NULL;
	}
	loading = NULL;
	qsort(fs->list, fs->count, sizeof(*fs->list), by_path);
	log_info("%s: %zu files, %zu bytes; %zu of them gzipped to %zu", dir,
	         fs->count, fs->bytes, fs->gz_of, fs->gz_bytes);
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
		free(fs->list[i].gz);
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
