/* files.h: the front-end's files, read once into memory and served from it. */
#ifndef TICKERD_FILES_H
#define TICKERD_FILES_H

#include <stddef.h>
#include <time.h>

struct files;

/* Room for an ETag: a quoted 16-digit hash, "-gz" and the NUL. */
#define FILES_ETAG_LEN 24

/* Room for an HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT") and its NUL. */
#define FILES_DATE_LEN 30

/*
 * One file of the web folder, as loaded: its URL path, type and bytes, its
 * gzip copy, and what caches check it by.  Made by files_load(), freed
 * with its set; nothing in it changes in between.
 */
struct file {
	char *path;        /* "/ticker.js" */
	const char *type;  /* Content-Type */
	const char *cache; /* Cache-Control: how long caches may keep it */
	char *body;
	size_t len;
	char *gz; /* the body gzipped; NULL unless a text type got smaller */
	size_t gz_len;
	time_t mtime; /* the file's, at most the time it was read */
	char etag[FILES_ETAG_LEN];    /* "<hash of body>", quotes included */
	char etag_gz[FILES_ETAG_LEN]; /* "<hash of gz>-gz"; "" without gz */
	char last_modified[FILES_DATE_LEN]; /* mtime as an HTTP date */
};

/*
 * files_etag() - a strong ETag for the bytes p[0..len): the first 64 bits
 * of their SHA-1 (lws's) in hex, quoted, then suffix ("" or "-gz").  The
 * same bytes get the same ETag in every process.
 */
void files_etag(const char *p, size_t len, const char *suffix,
                char out[FILES_ETAG_LEN]);

/*
 * files_http_date() - t as an HTTP date (IMF-fixdate: "Sun, 06 Nov 1994
 * 08:49:37 GMT"); "" if its year has not four digits.
 */
void files_http_date(time_t t, char out[FILES_DATE_LEN]);

/*
 * files_load() - read every regular file under dir (not dot-files, at most
 * FILES_MAX of them and FILES_BYTES_MAX bytes in all) into memory, with a
 * gzip copy of each text file that compresses, and each one's validators
 * (ETags from a hash of the bytes, Last-Modified).  A folder that is
 * missing or unreadable gives an empty set (logged); NULL only on ENOMEM.
 * The set does not change afterwards: load a new one to see new files
 * (SIGHUP does).
 */
struct files *files_load(const char *dir);
void files_free(struct files *fs);

/* files_count() - how many files the set holds. */
size_t files_count(const struct files *fs);

/*
 * files_find() - the file for a decoded URL path ("/" and paths ending in
 * "/" mean their index.html), or NULL (borrowed from fs).
 */
const struct file *files_find(const struct files *fs, const char *path);

#endif
