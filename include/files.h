/* files.h: the front-end's files, read once into memory and served from it. */
#ifndef TICKERD_FILES_H
#define TICKERD_FILES_H

#include <stddef.h>

struct files;

/* One file of the web folder: its URL path, type and bytes. */
struct file {
	char *path;       /* "/ticker.js" */
	const char *type; /* Content-Type */
	char *body;
	size_t len;
};

/*
 * files_load() - read every regular file under dir (not dot-files, at most
 * FILES_MAX of them and FILES_BYTES_MAX bytes in all) into memory.  A
 * folder that is missing or unreadable gives an empty set (logged); NULL
 * only on ENOMEM.  The set does not change afterwards: load a new one to
 * see new files (SIGHUP does).
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
